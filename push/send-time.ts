import { parseHhmm, quietUntil, zoneOffsetMs, type QuietHours } from './clock.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
export const HOURS_OF_WEEK = 168;

/** Local wall clock minus UTC at `ts` (clock.ts caches it per zone and quarter hour). */
export const cachedOffset = zoneOffsetMs;

/** Local hour of the week, Monday 00:00–00:59 = 0 ... Sunday 23:00 = 167. */
export function hourOfWeek(ts: number, tz: string): number {
  const local = ts + cachedOffset(ts, tz);
  const day = Math.floor(local / DAY);
  // 1970-01-01 was a Thursday (Monday-based index 3).
  const dow = (((day + 3) % 7) + 7) % 7;
  return dow * 24 + Math.floor((local - day * DAY) / HOUR);
}

/**
 * Hour-of-week engagement counts of one user (or the population), smoothed across neighbouring
 * hours and across days of the week at the same hour, so an evening on Tuesday also says
 * something about Wednesday evening. Returns 168 non-negative scores.
 */
export function smoothHours(
  c: ArrayLike<number>,
  out = new Float64Array(HOURS_OF_WEEK),
): Float64Array {
  const hod = HOD;
  hod.fill(0);
  for (let h = 0; h < HOURS_OF_WEEK; h++) hod[h % 24] += c[h] as number;
  for (let h = 0; h < HOURS_OF_WEEK; h++) {
    const k = h % 24;
    const own =
      (c[h] as number) + 0.5 * ((c[(h + 167) % 168] as number) + (c[(h + 1) % 168] as number));
    const daily =
      (hod[k] as number) + 0.5 * ((hod[(k + 23) % 24] as number) + (hod[(k + 1) % 24] as number));
    // Same weekday counts fully, the other six days at 0.3 each (of a seven-day total).
    out[h] = 0.7 * own + 0.3 * daily;
  }
  return out;
}

const HOD = new Float64Array(24);

/** Sum in index order (an indexed loop: for-of over a typed array was a hot spot). */
function total(a: Float64Array): number {
  let sum = 0;
  for (let h = 0; h < a.length; h++) sum += a[h] as number;
  return sum;
}

/** Smoothed, normalised to sum 1 (uniform when there is nothing yet). */
export function normalisedHours(
  c: ArrayLike<number>,
  out = new Float64Array(HOURS_OF_WEEK),
): Float64Array {
  const s = smoothHours(c, out);
  const sum = total(s);
  for (let h = 0; h < HOURS_OF_WEEK; h++) s[h] = sum > 0 ? (s[h] as number) / sum : 1 / 168;
  return s;
}

/**
 * P(engaged at hour h) for a user: their smoothed distribution blended with the population's
 * (`population`, already normalised), which weighs `priorStrength` observations. `out` lets a
 * hot caller reuse one buffer (the result is valid until its next call).
 */
export function hourDistribution(
  user: ArrayLike<number> | undefined,
  population: Float64Array,
  priorStrength: number,
  out = new Float64Array(HOURS_OF_WEEK),
): Float64Array {
  let n = 0;
  if (user) for (let h = 0; h < HOURS_OF_WEEK; h++) n += user[h] as number;
  if (!user || n === 0) return population;
  // normalisedHours and the blend in one pass, with the same operations in the same order (a
  // push decision runs this for every user with an hour histogram).
  const u = smoothHours(user, out);
  const sum = total(u);
  for (let h = 0; h < HOURS_OF_WEEK; h++) {
    const uh = sum > 0 ? (u[h] as number) / sum : 1 / 168;
    out[h] = (n * uh + priorStrength * (population[h] as number)) / (n + priorStrength);
  }
  return out;
}

export interface Slot {
  /** Delivery time, epoch ms. */
  readonly at: number;
  /** The slot's engagement relative to the best slot in the window (1 for the best). */
  readonly relative: number;
  /** `now`, `best hour` or `after quiet hours`. */
  readonly why: 'now' | 'best hour' | 'after quiet hours';
  readonly localHhmm: string;
}

export interface SlotQuery {
  readonly at: number;
  readonly maxDelayMs: number;
  readonly tz: string;
  readonly quiet: QuietHours;
  /** P(engaged) per local hour of week (hourDistribution). */
  readonly dist: Float64Array;
  /** Minutes into the hour a delayed push goes out at (spreads load; stable per user). */
  readonly minuteOffset: number;
  /** Waiting this long halves a slot's value (stale news is worth less). */
  readonly delayHalfLifeMs: number;
}

const hhmm = (ts: number, tz: string): string => {
  const local = ts + cachedOffset(ts, tz);
  const m = Math.floor((((local % DAY) + DAY) % DAY) / MIN);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

/**
 * The delivery time within [at, at + maxDelay] whose engagement, discounted for the wait, is
 * highest: now, or a later hour at `minuteOffset` past the hour. Quiet hours are never chosen;
 * when the whole window is quiet the push goes out when they end.
 */
export function bestSlot(q: SlotQuery): Slot {
  const quiet = (t: number): boolean => {
    const { startMs: a, endMs: b } = q.quiet;
    if (a === b) return false;
    const local = (((t + cachedOffset(t, q.tz)) % DAY) + DAY) % DAY;
    return a < b ? local >= a && local < b : local >= a || local < b;
  };
  const value = (t: number): number =>
    (q.dist[hourOfWeek(t, q.tz)] as number) * 0.5 ** ((t - q.at) / q.delayHalfLifeMs);
  const candidates: number[] = [];
  if (!quiet(q.at)) candidates.push(q.at);
  const hourStart = q.at - ((((q.at + cachedOffset(q.at, q.tz)) % HOUR) + HOUR) % HOUR);
  for (let t = hourStart + HOUR + q.minuteOffset * MIN; t <= q.at + q.maxDelayMs; t += HOUR)
    if (!quiet(t)) candidates.push(t);
  if (candidates.length === 0) {
    const end = quietUntil(q.at, q.tz, q.quiet) ?? q.at;
    return { at: end, relative: 1, why: 'after quiet hours', localHhmm: hhmm(end, q.tz) };
  }
  let best = candidates[0] as number;
  let bestV = -1;
  for (const t of candidates) {
    const v = value(t);
    if (v > bestV * (1 + 1e-9)) {
      bestV = v;
      best = t;
    }
  }
  const raw = q.dist[hourOfWeek(best, q.tz)] as number;
  let peak = raw;
  for (const t of candidates) peak = Math.max(peak, q.dist[hourOfWeek(t, q.tz)] as number);
  return {
    at: best,
    relative: peak > 0 ? raw / peak : 1,
    why: best === q.at ? 'now' : 'best hour',
    localHhmm: hhmm(best, q.tz),
  };
}

/** Quiet hours of the options, parsed once. */
export const parseQuiet = (o: { start: string; end: string }): QuietHours => ({
  startMs: parseHhmm(o.start),
  endMs: parseHhmm(o.end),
});
