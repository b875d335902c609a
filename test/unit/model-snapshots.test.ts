import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClickEvent } from '../../models/event.js';
import { createRecommender } from '../../models/registry.js';
import { BatchGate } from '../../pipeline/runtime/batch-gate.js';
import { LearnLedger, packSnapshot } from '../../pipeline/runtime/learn-ledger.js';
import { ModelSnapshots, type SnapshotSchedule } from '../../pipeline/runtime/model-snapshots.js';

const T0 = Date.UTC(2026, 10, 2);
const silent = { info: () => undefined, debug: () => undefined, warn: () => undefined };
const WHENEVER_ASKED: SnapshotSchedule = { minIntervalMs: 0, everyEvents: 1, maxIntervalMs: 0 };

function events(from: number, n: number): ClickEvent[] {
  const out: ClickEvent[] = [];
  for (let k = from; k < from + n; k++)
    out.push({
      eventId: `e${k}`,
      ts: T0 + k * 1000,
      userId: `u${(k * 7) % 23}`,
      itemId: `i${(k * 13) % 31}`,
      type: k % 5 === 0 ? 'purchase' : 'view',
      category: `c${k % 4}`,
    });
  return out;
}

describe('ModelSnapshots with a gate', () => {
  it('the default model in steps gives the bytes of snapshot()', () => {
    const rec = createRecommender('default');
    for (const e of events(0, 300)) rec.learn(e);
    const steps = rec.snapshotSteps?.();
    expect(steps).toBeDefined();
    let parts = 0;
    let r = steps!.next();
    for (; !r.done; r = steps!.next()) parts++;
    expect(parts).toBeGreaterThanOrEqual(3);
    expect(r.value).toEqual(rec.snapshot());
  });

  it('waits for the batch inside, then holds the gate until the snapshot is taken', async () => {
    const rec = createRecommender('default');
    const twin = createRecommender('default');
    const ledger = new LearnLedger();
    const saved = new Map<string, Uint8Array>();
    const store = {
      save: async (name: string, bytes: Uint8Array) => void saved.set(name, bytes),
      load: async (name: string) => saved.get(name) ?? null,
    };
    const gate = new BatchGate();
    const snapshots = new ModelSnapshots(store, 'm', rec, ledger, silent, WHENEVER_ASKED, gate);
    for (const e of events(0, 200)) [rec, twin].forEach((m) => m.learn(e));
    ledger.advance(0, 200);

    // a batch is inside (between hydrate and claim) when the snapshot is asked for
    await gate.enter();
    const saving = snapshots.save();
    for (const e of events(200, 50)) [rec, twin].forEach((m) => m.learn(e));
    ledger.advance(0, 250);
    const expected = packSnapshot(ledger, twin.snapshot());
    gate.leave();
    // the next batch asks at once and must wait for every part of the snapshot
    const next = gate.enter().then(() => {
      for (const e of events(250, 50)) rec.learn(e);
      ledger.advance(0, 300);
      gate.leave();
    });
    await Promise.all([saving, next]);
    expect(saved.get('m')).toEqual(expected);
    expect(gate.busy).toBe(false);
  });
});

describe('ModelSnapshots schedule', () => {
  afterEach(() => void vi.useRealTimers());

  /** The times (ms after the start) at which maybeSave() took a snapshot. */
  async function savesAt(
    schedule: SnapshotSchedule,
    steps: [afterMs: number, events: number][],
  ): Promise<number[]> {
    vi.useRealTimers();
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    const at: number[] = [];
    const store = { save: async () => void at.push(Date.now()), load: async () => null };
    const rec = createRecommender('default');
    const snapshots = new ModelSnapshots(store, 'm', rec, new LearnLedger(), silent, schedule);
    for (const [afterMs, events] of steps) {
      vi.setSystemTime(Date.now() + afterMs);
      snapshots.maybeSave(events);
      await snapshots.settled();
    }
    return at;
  }

  const schedule = { minIntervalMs: 30_000, everyEvents: 1_000, maxIntervalMs: 600_000 };

  it('waits for both the events and the minimum interval', async () => {
    // 1,000 events after 10 s: too soon; at 30 s the interval has passed too
    expect(
      await savesAt(schedule, [
        [10_000, 1_000],
        [20_000, 0],
      ]),
    ).toEqual([30_000]);
    // 30 s with 999 events: not yet; the next event is the 1,000th
    expect(
      await savesAt(schedule, [
        [30_000, 999],
        [1_000, 1],
      ]),
    ).toEqual([31_000]);
  });

  it('a group member committing a sixth of the events snapshots a sixth as often', async () => {
    // 1,000 events per 30 s for one instance, 1,000 per 180 s for each of six
    const one = await savesAt(
      schedule,
      Array.from({ length: 36 }, () => [5_000, 167] as [number, number]),
    );
    const six = await savesAt(
      schedule,
      Array.from({ length: 36 }, () => [5_000, 28] as [number, number]),
    );
    expect(one).toHaveLength(6);
    expect(six).toHaveLength(1);
  });

  it('after the maximum interval any committed event is enough, none is not', async () => {
    expect(
      await savesAt(schedule, [
        [600_000, 0],
        [1_000, 0],
      ]),
    ).toEqual([]);
    expect(
      await savesAt(schedule, [
        [599_000, 5],
        [1_000, 0],
        [1_000, 1],
      ]),
    ).toEqual([600_000]);
  });
});
