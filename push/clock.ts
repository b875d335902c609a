import { createHash } from 'node:crypto';

const MINUTE = 60_000;
const DAY = 86_400_000;

const mod = (a: number, n: number): number => ((a % n) + n) % n;

/** `HH:MM` → ms after local midnight. */
export function parseHhmm(s: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (!m) throw new RangeError(`not HH:MM: ${s}`);
  return (Number(m[1]) * 60 + Number(m[2])) * MINUTE;
}

const formats = new Map<string, Intl.DateTimeFormat | null>();

/** A formatter for the zone, or null when the runtime does not know it (cached either way). */
function formatFor(tz: string): Intl.DateTimeFormat | null {
  let f = formats.get(tz);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      f = null;
    }
    // Zone names come from event props: bound the cache so hostile input cannot grow it.
    if (formats.size < 1_000) formats.set(tz, f);
  }
  return f;
}

export const isKnownTimeZone = (tz: string): boolean => tz === 'UTC' || formatFor(tz) !== null;

function computeOffset(ts: number, tz: string): number {
  const f = formatFor(tz);
  if (f === null) return 0;
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(ts))
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - (ts - mod(ts, 1000));
}

/**
 * Per zone, per UTC day: the offset when it is the same at both ends of the day (no DST change
 * that day, so the same all day: zones change at most twice a year), or NaN when it changes.
 * At most 64 days per zone are kept (cleared when full); zones are bounded by formatFor's cache.
 */
const dayOffsets = new Map<string, Map<number, number>>();

/** Local wall clock minus UTC at instant `ts`, in ms (0 for UTC or an unknown zone). */
export function zoneOffsetMs(ts: number, tz: string): number {
  if (tz === 'UTC') return 0;
  const day = Math.floor(ts / DAY);
  let days = dayOffsets.get(tz);
  if (!days) {
    if (formatFor(tz) === null) return 0;
    dayOffsets.set(tz, (days = new Map()));
  }
  let off = days.get(day);
  if (off === undefined) {
    const a = computeOffset(day * DAY, tz);
    off = a === computeOffset((day + 1) * DAY - 1000, tz) ? a : NaN;
    if (days.size >= 64) days.clear();
    days.set(day, off);
  }
  return Number.isNaN(off) ? computeOffset(ts, tz) : off;
}

/** Quiet hours as local [start, end) ms after midnight; start > end spans midnight; equal: none. */
export interface QuietHours {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * When the quiet hours containing `ts` end (in the zone's wall clock), or undefined when `ts` is
 * not in quiet hours. Around a DST change the end is corrected by the offset difference once.
 */
export function quietUntil(ts: number, tz: string, q: QuietHours): number | undefined {
  if (q.startMs === q.endMs) return undefined;
  const offset = zoneOffsetMs(ts, tz);
  const local = mod(ts + offset, DAY);
  const quiet =
    q.startMs < q.endMs
      ? local >= q.startMs && local < q.endMs
      : local >= q.startMs || local < q.endMs;
  if (!quiet) return undefined;
  const guess = ts + mod(q.endMs - local, DAY);
  return guess + (offset - zoneOffsetMs(guess, tz));
}

/**
 * The notification's identity: the same user, trigger, item and trigger time is the same push,
 * whichever instance or replay computes it.
 */
export function idempotencyKey(
  userId: string,
  trigger: string,
  itemId: string,
  triggerTs: number,
): string {
  // The first 16 bytes in hex, made directly: `digest('hex').slice(0, 32)` is a slice that
  // keeps the whole 64-character digest alive (about 64 B more per pending or recent push held
  // by a user's state, issue 12). Same text.
  return createHash('sha256')
    .update(`${userId}\u0000${trigger}\u0000${itemId}\u0000${triggerTs}`)
    .digest()
    .toString('hex', 0, 16);
}
