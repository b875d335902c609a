/**
 * Item → event time, oldest first: the subset of Map<string, number> the push triggers use, as
 * one array of (key, time) pairs that the user's state holds itself. Why (issue 12): a user's
 * interest holds one or two items, and a Map costs about 200 bytes before its first entry (its
 * table reserves four); the pairs cost about 80 + 32 per entry, and since 2026-12-06 no wrapper
 * object (32 B more per user and map). Lookups scan, which at the bound
 * (USER_BOUNDS.interest, 100) is still cheap next to the event that triggers them.
 */
export type RecentMap = (string | number)[];

export const recentSize = (m: RecentMap): number => m.length / 2;

function find(m: RecentMap, key: string): number {
  for (let i = 0; i < m.length; i += 2) if (m[i] === key) return i;
  return -1;
}

export function recentGet(m: RecentMap, key: string): number | undefined {
  const i = find(m, key);
  return i < 0 ? undefined : (m[i + 1] as number);
}

/**
 * Like Map.set: a present key keeps its place, a new one goes last. Returns the map, which is a
 * new array when a small one grew: callers keep the result.
 */
export function recentSet(m: RecentMap, key: string, ts: number): RecentMap {
  const i = find(m, key);
  if (i >= 0) m[i + 1] = ts;
  // small lists are copied to exact size: a push grows the backing store by half + 16 slots
  else if (m.length < 16) return m.concat(key, ts);
  else m.push(key, ts);
  return m;
}

export function recentDelete(m: RecentMap, key: string): boolean {
  const i = find(m, key);
  if (i < 0) return false;
  m.splice(i, 2);
  return true;
}

/** The oldest key (first set), if any. */
export const recentFirst = (m: RecentMap): string | undefined => m[0] as string | undefined;

/** The i-th oldest key (0 <= i < size): reading entries without an iterator's garbage. */
export const keyAt = (m: RecentMap, i: number): string => m[2 * i] as string;

/** The time of the i-th oldest key. */
export const timeAt = (m: RecentMap, i: number): number => m[2 * i + 1] as number;

export function* recentKeys(m: RecentMap): IterableIterator<string> {
  for (let i = 0; i < m.length; i += 2) yield m[i] as string;
}

export function* recentEntries(m: RecentMap): IterableIterator<[string, number]> {
  for (let i = 0; i < m.length; i += 2) yield [m[i] as string, m[i + 1] as number];
}
