import { describe, expect, it } from 'vitest';
import type { ClickEvent } from '../../models/event.js';
import { createRecommender } from '../../models/registry.js';
import { BatchGate } from '../../pipeline/runtime/batch-gate.js';
import { LearnLedger, packSnapshot } from '../../pipeline/runtime/learn-ledger.js';
import { ModelSnapshots } from '../../pipeline/runtime/model-snapshots.js';

const T0 = Date.UTC(2026, 10, 2);
const silent = { info: () => undefined, debug: () => undefined, warn: () => undefined };

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
    const snapshots = new ModelSnapshots(store, 'm', rec, ledger, silent, 0, gate);
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
