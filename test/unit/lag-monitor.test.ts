import { describe, expect, it } from 'vitest';
import type { ClickEvent } from '../../models/event.js';
import type { Recommender } from '../../models/recommender.js';
import { createMetrics } from '../../pipeline/metrics.js';
import { startLagMonitor, type LagConsumer } from '../../pipeline/runtime/lag-monitor.js';
import { ModelMonitor } from '../../pipeline/runtime/model-monitor.js';

/** A consumer double: assignments, committed offsets and watermarks as the test sets them. */
function fakeConsumer(state: {
  assigned: { topic: string; partition: number }[];
  committed: Record<number, number>;
  high: Record<number, number>;
  down?: boolean;
}): LagConsumer {
  return {
    assignments: () => state.assigned,
    committed: ((
      tps: { topic: string; partition: number }[],
      _t: number,
      cb: (e: unknown, r: unknown) => void,
    ) => {
      if (state.down) cb(new Error('Local: Timed out'), undefined);
      else
        cb(
          null,
          tps.map((tp) => ({ ...tp, offset: state.committed[tp.partition] ?? -1001 })),
        );
    }) as unknown as LagConsumer['committed'],
    queryWatermarkOffsets: ((
      _topic: string,
      p: number,
      _t: number,
      cb: (e: unknown, r: unknown) => void,
    ) => {
      if (state.down) cb(new Error('Local: Timed out'), undefined);
      else cb(null, { lowOffset: 0, highOffset: state.high[p] ?? 0 });
    }) as unknown as LagConsumer['queryWatermarkOffsets'],
  };
}

const gauge = async (
  m: ReturnType<typeof createMetrics>,
  name: string,
): Promise<Record<string, number>> => {
  const out: Record<string, number> = {};
  for (const v of (await m.registry.getSingleMetric(name)?.get())?.values ?? [])
    out[String(v.labels.partition)] = v.value;
  return out;
};

describe('lag monitor', () => {
  it('reports high watermark minus committed per partition, from the log start when nothing is committed', async () => {
    const metrics = createMetrics();
    const state = {
      assigned: [0, 1, 2].map((partition) => ({ topic: 't', partition })),
      committed: { 0: 90, 1: 10 } as Record<number, number>,
      high: { 0: 100, 1: 10, 2: 7 } as Record<number, number>,
    };
    const mon = startLagMonitor(fakeConsumer(state), metrics, { intervalMs: 60_000 });
    const rows = await mon.poll();
    expect(rows.map((r) => r.lag)).toEqual([10, 0, 7]);
    expect(await gauge(metrics, 'recpipe_consumer_lag')).toEqual({ 0: 10, 1: 0, 2: 7 });
    expect(await gauge(metrics, 'recpipe_consumer_committed_offset')).toMatchObject({
      0: 90,
      1: 10,
    });
    expect(mon.healthy()).toBe(true);

    // A partition moved away disappears from this instance's gauges.
    state.assigned = state.assigned.slice(0, 2);
    await mon.poll();
    expect(Object.keys(await gauge(metrics, 'recpipe_consumer_lag'))).toEqual(['0', '1']);
    mon.stop();
  });

  it('keeps the last values and turns unhealthy while the broker does not answer', async () => {
    const metrics = createMetrics();
    const state = {
      assigned: [{ topic: 't', partition: 0 }],
      committed: { 0: 5 } as Record<number, number>,
      high: { 0: 8 } as Record<number, number>,
      down: false,
    };
    const errors: unknown[] = [];
    const mon = startLagMonitor(fakeConsumer(state), metrics, {
      intervalMs: 60_000,
      onError: (e) => errors.push(e),
    });
    await mon.poll();
    state.down = true;
    expect(await mon.poll()).toEqual([]);
    expect(mon.healthy()).toBe(false);
    expect(errors).toHaveLength(1);
    expect(await gauge(metrics, 'recpipe_consumer_lag')).toEqual({ 0: 3 });
    state.down = false;
    await mon.poll();
    expect(mon.healthy()).toBe(true);
    mon.stop();
  });
});

describe('model monitor', () => {
  const ev = (i: number, user: string, item: string, type: ClickEvent['type']): ClickEvent => ({
    eventId: `e${i}`,
    ts: 1_000 + i,
    userId: user,
    itemId: item,
    type,
  });

  it('scores test-then-train over a sliding window of evaluated events', () => {
    // Always recommends item "a": every purchase of "a" by a known user is a hit at rank 0.
    const rec: Recommender = {
      name: 'fixed',
      learn: () => undefined,
      recommend: (_u, k, exclude) =>
        ['a', 'b']
          .filter((i) => !exclude.has(i))
          .slice(0, k)
          .map((itemId) => ({ itemId, score: 1, reason: 'fixed' })),
    };
    const metrics = createMetrics();
    const mon = new ModelMonitor(rec, metrics, { k: 10, window: 2 });
    let i = 0;
    mon.learn(ev(i++, 'u1', 'x', 'view')); // first event of u1: not evaluated
    mon.learn(ev(i++, 'u1', 'a', 'purchase')); // hit
    mon.learn(ev(i++, 'u1', 'c', 'purchase')); // miss
    expect(mon.score()).toEqual({ evaluated: 2, hr: 0.5, ndcg: 0.5 });
    mon.learn(ev(i++, 'u2', 'x', 'view'));
    mon.learn(ev(i++, 'u2', 'c', 'add_to_cart')); // miss: the window now holds two misses
    expect(mon.score().hr).toBe(0);
    mon.publish();
    const rows = mon.rows(42);
    expect(rows.map((r) => r.metric)).toEqual([
      'hr_at_10',
      'ndcg_at_10',
      'window_evaluated',
      'evaluated_total',
    ]);
    expect(rows.find((r) => r.metric === 'evaluated_total')?.value).toBe(3);
  });
});
