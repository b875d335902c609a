import type { UserPushState } from './user-state.js';

/**
 * A user's interest (CatalogTrigger, triggers.ts): item → time of the latest view, click or cart
 * add, oldest first, at most USER_BOUNDS.interest items, with a Map's order (a key set again
 * keeps its place; the trigger deletes and sets to move one last).
 *
 * Kept as UserPushState.interest with the first item's time in the user's scalar columns
 * (UserPushState.interestTs, user-scalars.ts):
 * - undefined: no item;
 * - a string: the one item;
 * - a list [item_0, item_1, t_1, ..., item_n-1, t_n-1]: two items or more.
 *
 * Why (issue 12): as one list of (item, time) pairs every user with interest held an array
 * (64 B with its store for one item) and a 16-byte heap number per time (a list mixing strings
 * and numbers boxes its numbers): 80 B for the one item most users have, where the column costs
 * every user 8 B; from the second item the list is 24 B shorter than the pairs were.
 */
export type InterestList = (string | number)[];

/** The items and their times as fresh lists, oldest first (to change them, then `store`). */
export interface InterestEntries {
  readonly keys: string[];
  readonly times: number[];
}

export function interestSize(s: UserPushState): number {
  const m = s.interest;
  if (m === undefined) return 0;
  return typeof m === 'string' ? 1 : (m.length + 1) / 2;
}

/** The i-th oldest item (0 <= i < size). */
export function interestKeyAt(s: UserPushState, i: number): string {
  const m = s.interest;
  if (typeof m === 'string') return m;
  return (m as InterestList)[i === 0 ? 0 : 2 * i - 1] as string;
}

/** The time of the i-th oldest item. */
export function interestTimeAt(s: UserPushState, i: number): number {
  return i === 0 ? s.interestTs : ((s.interest as InterestList)[2 * i] as number);
}

/** The item's time, undefined when the item is not there. */
export function interestGet(s: UserPushState, key: string): number | undefined {
  const m = s.interest;
  if (m === undefined) return undefined;
  if (typeof m === 'string') return m === key ? s.interestTs : undefined;
  if (m[0] === key) return s.interestTs;
  for (let i = 1; i < m.length; i += 2) if (m[i] === key) return m[i + 1] as number;
  return undefined;
}

/** The items, oldest first, as a fresh list. */
export function interestKeys(s: UserPushState): string[] {
  const out: string[] = [];
  for (let i = 0, n = interestSize(s); i < n; i++) out.push(interestKeyAt(s, i));
  return out;
}

export function interestEntries(s: UserPushState): InterestEntries {
  const e: InterestEntries = { keys: [], times: [] };
  for (let i = 0, n = interestSize(s); i < n; i++) {
    e.keys.push(interestKeyAt(s, i));
    e.times.push(interestTimeAt(s, i));
  }
  return e;
}

/** Replaces the user's interest by `e` (keys unique), in a list of exact size. */
export function storeInterest(s: UserPushState, e: InterestEntries): void {
  const n = e.keys.length;
  if (n === 0) {
    s.interest = undefined;
    return;
  }
  s.interestTs = e.times[0] as number;
  if (n === 1) {
    s.interest = e.keys[0] as string;
    return;
  }
  const m: InterestList = new Array<string | number>(2 * n - 1);
  m[0] = e.keys[0] as string;
  for (let i = 1; i < n; i++) {
    m[2 * i - 1] = e.keys[i] as string;
    m[2 * i] = e.times[i] as number;
  }
  s.interest = m;
}

/** Like Map.set on the entries: a present key keeps its place, a new one goes last. */
export function setEntry(e: InterestEntries, key: string, ts: number): void {
  const i = e.keys.indexOf(key);
  if (i >= 0) e.times[i] = ts;
  else {
    e.keys.push(key);
    e.times.push(ts);
  }
}

/** Like Map.delete on the entries. */
export function deleteEntry(e: InterestEntries, key: string): boolean {
  const i = e.keys.indexOf(key);
  if (i < 0) return false;
  e.keys.splice(i, 1);
  e.times.splice(i, 1);
  return true;
}
