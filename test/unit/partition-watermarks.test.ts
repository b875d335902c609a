import { lastValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { FeatureStore } from '../../features/feature-store.js';
import { PartitionWatermarks } from '../../stream/partition-watermarks.js';
import { updateFeatures } from '../../operators/update-features.js';
import type { GraphBatch, SourcedEvent } from '../../operators/types.js';

describe('PartitionWatermarks', () => {
  it('holds the cap at the slowest active partition and releases idle ones', () => {
    const w = new PartitionWatermarks(1000);
    w.observe('t/0', 500, 0);
    expect(w.cap(10)).toBe(Number.NEGATIVE_INFINITY); // warm-up: other partitions may not have reported
    w.observe('t/1', 100, 999);
    expect(w.cap(1000)).toBe(100);
    w.observe('t/0', 900, 1500);
    expect(w.cap(2000)).toBe(900); // t/1 idle for 1001 ms > 1000 ms
    w.observe('t/1', 200, 2100);
    expect(w.cap(2100)).toBe(200);
    expect(new PartitionWatermarks(1).cap(0)).toBe(Number.POSITIVE_INFINITY);
  });
});

const HOUR = 3_600_000;
const ev = (id: string, partition: number, user: string, ts: number): SourcedEvent => ({
  event: { eventId: id, ts, userId: user, itemId: 'i', type: 'view' },
  topic: 't',
  partition,
  offset: 0,
});
const batch = (seq: number, events: SourcedEvent[]): GraphBatch => ({
  seq,
  commits: [],
  messages: events.length,
  events,
  items: [],
  duplicates: 0,
  deadLetters: [],
  recommendations: [],
  purchases: new Map(),
  features: [],
  lateFeatureEvents: 0,
  watermark: Number.NEGATIVE_INFINITY,
  pushes: [],
  pushMessages: [],
});

describe('updateFeatures across partitions', () => {
  it('does not treat a lagging partition as late (a backfill read one partition at a time)', async () => {
    const run = async (capByPartition: boolean) => {
      const store = new FeatureStore();
      const clock = { t: 0 };
      const op = updateFeatures(store, {
        idlePartitionMs: capByPartition ? 2 : 0,
        now: () => ++clock.t,
      });
      // Partition 0 is read far ahead (10 h of events), then partition 1 catches up from hour 0.
      const p0 = Array.from({ length: 10 }, (_, i) => ev(`a${i}`, 0, 'u0', i * HOUR));
      const p1 = Array.from({ length: 10 }, (_, i) => ev(`b${i}`, 1, 'u1', i * HOUR + 1));
      const out = await lastValueFrom(
        from([
          batch(0, p0.slice(0, 1)),
          batch(1, p1.slice(0, 1)),
          batch(2, p0.slice(1)),
          batch(3, p1.slice(1)),
        ]).pipe(op, toArray()),
      );
      return {
        late: out.reduce((n, b) => n + b.lateFeatureEvents, 0),
        watermark: out[out.length - 1]?.watermark ?? Number.NaN,
      };
    };
    const capped = await run(true);
    expect(capped.late).toBe(0);
    expect(capped.watermark).toBeGreaterThan(8 * HOUR); // windows did close
    // Without the cap (idle immediately), the same stream loses partition 1's events as late.
    expect((await run(false)).late).toBeGreaterThan(0);
  });
});

describe('updateFeatures on an idle tick (pipeline.idleAdvanceMs)', () => {
  it('moves event time to the tick less the allowed lateness, and fires what that closes', async () => {
    const store = new FeatureStore();
    const op = updateFeatures(store, { idlePartitionMs: 0 });
    const t0 = 10 * HOUR;
    const tick = t0 + 2 * HOUR;
    const out = await lastValueFrom(
      from([
        batch(0, [ev('a', 0, 'u', t0), ev('b', 0, 'u', t0 + 60_000)]),
        { ...batch(1, []), messages: 0, idleAt: tick },
        { ...batch(2, []), messages: 0, idleAt: tick - HOUR },
      ]).pipe(op, toArray()),
    );
    const [first, idle, older] = out as [GraphBatch, GraphBatch, GraphBatch];
    // events alone leave the watermark behind the newest event (out-of-orderness)
    expect(first.watermark).toBeLessThan(t0 + 60_000);
    const expected = tick - store.config.allowedLatenessMs;
    expect(idle.watermark).toBe(expected);
    // the user's session (gap 30 min) ended long before: the tick closes it and writes it
    expect(idle.features.some((s) => s.entity === 'user' && s.key === 'u')).toBe(true);
    // an earlier tick never moves event time back
    expect(older.watermark).toBe(expected);
    expect(older.features).toEqual([]);
  });
});
