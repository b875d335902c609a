import { HOURS_OF_WEEK } from './send-time.js';

/**
 * A user's hour-of-week engagement counts (0..255 per hour). While at most `SPARSE_MAX` hours
 * are non-zero they are a plain array of `hour << 8 | count` (small integers, no boxing);
 * beyond, a dense Uint8Array of 168. Why (issue 12): most users engage in one or two hours, and
 * a 168-byte typed array per user costs about 400 bytes of RSS (the view, its ArrayBuffer
 * object and a separately allocated store), a two-entry array about 50. The values read
 * through `denseHours` are the same either way. A single non-zero hour is its entry alone, a
 * number (a small integer in the user's state: no array, about 56 B less per user, issue 12).
 */
export type HourCounts = number | number[] | Uint8Array;

/** Non-zero hours kept sparse; one more converts to the dense form. */
const SPARSE_MAX = 8;

/** Shifts every count right by `bits`, dropping hours that reach 0 (sparse form, in place). */
function shiftSparse(h: number[], bits: number): void {
  let n = 0;
  for (const e of h) {
    const c = (e & 255) >> bits;
    if (c > 0) h[n++] = (e & ~255) | c;
  }
  h.length = n;
}

function find(h: number[], how: number): number {
  for (let i = 0; i < h.length; i++) if ((h[i] as number) >> 8 === how) return i;
  return -1;
}

/**
 * Halves every count `halvings` times (at most 8), halves them once more when hour `how` would
 * pass 255, then adds `weight` at `how`. Returns the counts, which may be a new object.
 */
export function addHour(h: HourCounts, how: number, weight: number, halvings: number): HourCounts {
  if (typeof h === 'number') {
    const r = addHour([h], how, weight, halvings);
    return Array.isArray(r) && r.length === 1 ? (r[0] as number) : r;
  }
  if (h instanceof Uint8Array) {
    if (halvings > 0)
      for (let i = 0; i < HOURS_OF_WEEK; i++) h[i] = (h[i] as number) >> Math.min(8, halvings);
    if ((h[how] as number) + weight > 255)
      for (let i = 0; i < HOURS_OF_WEEK; i++) h[i] = (h[i] as number) >> 1;
    h[how] = (h[how] as number) + weight;
    return h;
  }
  if (halvings > 0) shiftSparse(h, Math.min(8, halvings));
  let p = find(h, how);
  if ((p < 0 ? 0 : (h[p] as number) & 255) + weight > 255) {
    shiftSparse(h, 1);
    p = find(h, how);
  }
  if (p >= 0) {
    h[p] = (h[p] as number) + weight;
    return h;
  }
  if (h.length < SPARSE_MAX) {
    // the first entry alone is a number (HourCounts)
    if (h.length === 0) return (how << 8) | weight;
    h.push((how << 8) | weight);
    return h;
  }
  const dense = new Uint8Array(HOURS_OF_WEEK);
  for (const e of h) dense[e >> 8] = e & 255;
  dense[how] = weight;
  return dense;
}

const scratch = new Uint8Array(HOURS_OF_WEEK);

/** The counts as 168 bytes; for the sparse form a shared buffer, valid until the next call. */
export function denseHours(h: HourCounts): Uint8Array {
  if (h instanceof Uint8Array) return h;
  scratch.fill(0);
  if (typeof h === 'number') scratch[h >> 8] = h & 255;
  else for (const e of h) scratch[e >> 8] = e & 255;
  return scratch;
}

/** 168 bytes (a decoded snapshot) in the smaller form. */
export function compactHours(dense: Uint8Array): HourCounts {
  const h: number[] = [];
  for (let i = 0; i < HOURS_OF_WEEK; i++) {
    const c = dense[i] as number;
    if (c === 0) continue;
    if (h.length === SPARSE_MAX) return dense;
    h.push((i << 8) | c);
  }
  return h.length === 0 ? [] : h.length === 1 ? (h[0] as number) : h.slice();
}
