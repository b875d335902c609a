/**
 * A user's live burst windows (InterestBurstTrigger, triggers.ts) in one flat list, least recently
 * touched first. Each window is a run of 3 + 3n entries:
 *
 *   [category, n, firedAt, item_0, t_0, w_0, ..., item_n-1, t_n-1, w_n-1]
 *
 * its events oldest first; firedAt is null while the window never fired (the -Infinity the
 * encoded state holds), so that a new window's firedAt is no heap number of its own.
 *
 * Why (issue 12): as two lists per window (names and unboxed numbers) in a list of windows, a
 * user with two one-event windows, the common case, held 7 arrays (about 350 B); as one list,
 * one array of 12 entries and two boxed times (about 180 B). The cost per event is higher (3
 * entries and a boxed time, 40 B, against 24 B), so a user at the bound (USER_BOUNDS:
 * 16 windows of 64 events) holds about 41 KB instead of 25 KB; such users are rare, the bound is
 * what docs/operations.md sums.
 *
 * Lists are written whole (a new array of exact size per change): a push into a full array
 * would grow it by half + 16 entries, per user.
 */
export type BurstList = (string | number | null)[];

/** One window, taken apart: what the trigger works on before the list is written again. */
export interface BurstWindow {
  readonly category: string;
  /** -Infinity: never fired. */
  firedAt: number;
  readonly items: string[];
  readonly times: number[];
  readonly weights: number[];
}

/** Entries before a window's events. */
const HEAD = 3;

/** Number of events of the window starting at `at`. */
const eventsAt = (l: BurstList, at: number): number => l[at + 1] as number;

/** Start of the window after the one starting at `at`. */
export const nextWindow = (l: BurstList, at: number): number => at + HEAD + 3 * eventsAt(l, at);

export const burstCategory = (l: BurstList, at: number): string => l[at] as string;

export function burstFiredAt(l: BurstList, at: number): number {
  const f = l[at + 2];
  return f === null ? -Infinity : (f as number);
}

export function setBurstFiredAt(l: BurstList, at: number, v: number): void {
  l[at + 2] = v === -Infinity ? null : v;
}

/** Time of event `i` of the window starting at `at`. */
const timeOf = (l: BurstList, at: number, i: number): number => l[at + HEAD + 3 * i + 1] as number;

/** Start of the first window of `category`, or -1. */
export function findWindow(l: BurstList, category: string): number {
  for (let at = 0; at < l.length; at = nextWindow(l, at)) if (l[at] === category) return at;
  return -1;
}

export function burstWindowCount(l: BurstList): number {
  let n = 0;
  for (let at = 0; at < l.length; at = nextWindow(l, at)) n++;
  return n;
}

/** The window starting at `at`, as fresh lists. */
export function readWindow(l: BurstList, at: number): BurstWindow {
  const n = eventsAt(l, at);
  const w: BurstWindow = {
    category: burstCategory(l, at),
    firedAt: burstFiredAt(l, at),
    items: [],
    times: [],
    weights: [],
  };
  for (let i = 0, p = at + HEAD; i < n; i++, p += 3) {
    w.items.push(l[p] as string);
    w.times.push(l[p + 1] as number);
    w.weights.push(l[p + 2] as number);
  }
  return w;
}

/** Entries `w` takes in a list. */
export const windowSize = (w: BurstWindow): number => HEAD + 3 * w.items.length;

/** Writes `w` into `out` from `at`; returns the end. */
export function writeWindow(out: BurstList, at: number, w: BurstWindow): number {
  out[at] = w.category;
  out[at + 1] = w.items.length;
  out[at + 2] = w.firedAt === -Infinity ? null : w.firedAt;
  let p = at + HEAD;
  for (let i = 0; i < w.items.length; i++, p += 3) {
    out[p] = w.items[i] as string;
    out[p + 1] = w.times[i] as number;
    out[p + 2] = w.weights[i] as number;
  }
  return p;
}

/** A list of exactly `n` entries (filled by the caller: holes never stay). */
export const burstListOf = (n: number): BurstList => new Array<string | number | null>(n);

/**
 * The list with the window starting at `skip` (-1: none) moved last as `w`, and the oldest other
 * windows dropped so that at most `maxWindows` are left (a Map's delete, set and cap, as the
 * windows were once kept), in a new array of exact size.
 */
export function withWindowLast(
  l: BurstList,
  skip: number,
  w: BurstWindow,
  maxWindows: number,
): BurstList {
  let others = 0;
  for (let at = 0; at < l.length; at = nextWindow(l, at)) if (at !== skip) others++;
  const drop = Math.max(0, others + 1 - maxWindows);
  let n = windowSize(w);
  let d = drop;
  for (let at = 0; at < l.length; at = nextWindow(l, at)) {
    if (at === skip) continue;
    if (d > 0) d--;
    else n += nextWindow(l, at) - at;
  }
  const out = burstListOf(n);
  let p = 0;
  d = drop;
  for (let at = 0; at < l.length; at = nextWindow(l, at)) {
    if (at === skip) continue;
    if (d > 0) d--;
    else for (let i = at, end = nextWindow(l, at); i < end; i++) out[p++] = entry(l, i);
  }
  writeWindow(out, p, w);
  return out;
}

const entry = (l: BurstList, i: number): string | number | null => l[i] as string | number | null;

/**
 * Whether the window starting at `at` has nothing left as of `from` (no event after it) and did
 * not fire after it: what sweeping drops.
 */
export function windowDead(l: BurstList, at: number, from: number): boolean {
  const n = eventsAt(l, at);
  const idle = n === 0 || timeOf(l, at, n - 1) <= from;
  return idle && burstFiredAt(l, at) <= from;
}

/** The list without its dead windows (windowDead), undefined when none is left. */
export function sweepWindows(l: BurstList, from: number): BurstList | undefined {
  let dead = 0;
  let live = 0;
  for (let at = 0; at < l.length; at = nextWindow(l, at))
    if (windowDead(l, at, from)) dead += nextWindow(l, at) - at;
    else live++;
  if (live === 0) return undefined;
  if (dead === 0) return l;
  const out = burstListOf(l.length - dead);
  let p = 0;
  for (let at = 0; at < l.length; at = nextWindow(l, at)) {
    if (windowDead(l, at, from)) continue;
    for (let i = at, end = nextWindow(l, at); i < end; i++) out[p++] = entry(l, i);
  }
  return out;
}
