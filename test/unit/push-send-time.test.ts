import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { zoneOffsetMs } from '../../push/clock.js';
import {
  HOURS_OF_WEEK,
  bestSlot,
  hourDistribution,
  hourOfWeek,
  normalisedHours,
  parseQuiet,
} from '../../push/send-time.js';

const H = 3_600_000;
const at = (iso: string): number => Date.parse(iso);
const NIGHT = parseQuiet({ start: '22:00', end: '08:00' });
const FLAT = normalisedHours(new Float64Array(HOURS_OF_WEEK));

/** A user active at local hour h (every day of the week). */
function activeAt(h: number, n = 6): Float64Array {
  const c = new Float64Array(HOURS_OF_WEEK);
  for (let d = 0; d < 7; d++) c[24 * d + h] = n;
  return hourDistribution(c, FLAT, 4);
}

const localHour = (t: number, tz: string): number =>
  new Date(t + zoneOffsetMs(t, tz)).getUTCHours();

describe('hour of week', () => {
  it('counts from Monday 00:00 local', () => {
    expect(hourOfWeek(at('2026-11-09T00:30:00Z'), 'UTC')).toBe(0);
    expect(hourOfWeek(at('2026-11-15T23:59:00Z'), 'UTC')).toBe(167);
    // 23:30 UTC on Sunday is Monday 00:30 in Berlin.
    expect(hourOfWeek(at('2026-11-15T23:30:00Z'), 'Europe/Berlin')).toBe(0);
  });

  it('follows a DST change inside a day (New York, 2026-11-01 06:00 UTC)', () => {
    expect(zoneOffsetMs(at('2026-11-01T05:59:00Z'), 'America/New_York')).toBe(-4 * H);
    expect(zoneOffsetMs(at('2026-11-01T06:00:00Z'), 'America/New_York')).toBe(-5 * H);
    expect(zoneOffsetMs(at('2026-11-02T12:00:00Z'), 'America/New_York')).toBe(-5 * H);
  });
});

describe('best delivery time', () => {
  const q = { maxDelayMs: 24 * H, quiet: NIGHT, minuteOffset: 30, delayHalfLifeMs: 48 * H };

  it('waits for an evening user’s evening, at the minute offset, and says why', () => {
    const s = bestSlot({
      ...q,
      at: at('2026-11-10T08:00:00Z'),
      tz: 'Europe/Berlin',
      dist: activeAt(19),
    });
    expect(new Date(s.at).toISOString()).toBe('2026-11-10T18:30:00.000Z');
    expect([s.why, s.localHhmm, s.relative]).toEqual(['best hour', '19:30', 1]);
  });

  it('sends now when nothing is known (a flat profile) and now is allowed', () => {
    const s = bestSlot({ ...q, at: at('2026-11-10T10:17:00Z'), tz: 'UTC', dist: FLAT });
    expect([s.at, s.why]).toEqual([at('2026-11-10T10:17:00Z'), 'now']);
  });

  it('never chooses quiet hours, and an all-quiet window waits for their end', () => {
    // A night owl (active at 02:00) still gets nothing between 22:00 and 08:00.
    const s = bestSlot({ ...q, at: at('2026-11-10T12:00:00Z'), tz: 'UTC', dist: activeAt(2) });
    expect(localHour(s.at, 'UTC')).toBeGreaterThanOrEqual(8);
    expect(localHour(s.at, 'UTC')).toBeLessThan(22);
    const cart = bestSlot({
      ...q,
      maxDelayMs: 2 * H,
      at: at('2026-11-10T23:00:00Z'),
      tz: 'UTC',
      dist: FLAT,
    });
    expect([new Date(cart.at).toISOString(), cart.why]).toEqual([
      '2026-11-11T08:00:00.000Z',
      'after quiet hours',
    ]);
  });

  it('stays within the delay bound: a cart waits at most 2 h even for a better hour', () => {
    const s = bestSlot({
      ...q,
      maxDelayMs: 2 * H,
      at: at('2026-11-10T12:00:00Z'),
      tz: 'UTC',
      dist: activeAt(19),
    });
    expect(s.at - at('2026-11-10T12:00:00Z')).toBeLessThanOrEqual(2 * H);
  });

  it('property: inside [at, at + maxDelay] and outside quiet hours whenever such a time exists', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 14 * 24 * 60 }),
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'),
        fc.integer({ min: 0, max: 23 }),
        fc.constantFrom(2 * H, 24 * H),
        (minute, tz, h, maxDelayMs) => {
          const t = at('2026-10-20T00:00:00Z') + minute * 60_000;
          const s = bestSlot({ ...q, maxDelayMs, at: t, tz, dist: activeAt(h) });
          const hh = localHour(s.at, tz);
          expect(hh >= 8 && hh < 22).toBe(true);
          if (s.why !== 'after quiet hours') {
            expect(s.at).toBeGreaterThanOrEqual(t);
            expect(s.at).toBeLessThanOrEqual(t + maxDelayMs);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
