import { describe, expect, it } from 'vitest';
import { Delivery, type DeliveryStages, type Sequenced } from '../../pipeline/runtime/delivery.js';

interface B extends Sequenced {
  readonly seq: number;
  readonly messages: number;
}

/** A store whose calls stay open until the test lets them go, and a log of what happened. */
function stages(): {
  stages: DeliveryStages<B, B>;
  log: string[];
  release: (stage: 'serve' | 'store' | 'commit') => void;
  open: (stage: 'serve' | 'store' | 'commit') => number;
} {
  const log: string[] = [];
  const waiting = new Map<string, (() => void)[]>();
  const call = (stage: string, seqs: readonly number[]): Promise<void> => {
    log.push(`${stage} ${seqs.join(',')}`);
    return new Promise<void>((resolve) => {
      const q = waiting.get(stage) ?? [];
      q.push(resolve);
      waiting.set(stage, q);
    });
  };
  return {
    log,
    open: (stage) => waiting.get(stage)?.length ?? 0,
    release: (stage) => waiting.get(stage)?.shift()?.(),
    stages: {
      serve: async (batches) => {
        await call(
          'serve',
          batches.map((b) => b.seq),
        );
        return batches;
      },
      store: (group) =>
        call(
          'store',
          group.map((b) => b.seq),
        ),
      commit: (group) =>
        call(
          'commit',
          group.map((b) => b.seq),
        ),
    },
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Delivery', () => {
  it('serves without waiting for the analytics write, and commits only after it, in order', async () => {
    const s = stages();
    const committed: number[] = [];
    const d = new Delivery(s.stages, {
      flushMs: 60_000,
      flushMaxMessages: 3,
      onCommitted: (g) => committed.push(...g.map((b) => b.seq)),
    });
    const served0 = d.serve({ seq: 0, messages: 1 });
    const served1 = d.serve({ seq: 1, messages: 1 });
    await tick();
    // one serve call at a time: batch 1 waits and is served with what queued behind it
    expect(s.log).toEqual(['serve 0']);
    s.release('serve');
    await served0;
    await tick();
    expect(s.log).toEqual(['serve 0', 'serve 1']);
    s.release('serve');
    await served1;
    // two messages stored, the flush needs three (or a minute): nothing written or committed yet
    expect(s.open('store')).toBe(0);
    const served2 = d.serve({ seq: 2, messages: 1 });
    await tick();
    s.release('serve');
    await served2;
    await tick();
    expect(s.log.slice(3)).toEqual(['store 0,1,2']);
    expect(committed).toEqual([]);
    s.release('store');
    await tick();
    expect(s.log.slice(4)).toEqual(['commit 0,1,2']);
    expect(committed).toEqual([]);
    s.release('commit');
    await tick();
    expect(committed).toEqual([0, 1, 2]);
    expect(d.pending).toBe(0);
  });

  it('flushes when flushMaxBatches batches are waiting, however few messages they hold', async () => {
    const s = stages();
    const d = new Delivery(s.stages, {
      flushMs: 60_000,
      flushMaxMessages: 1_000,
      flushMaxBatches: 4,
      onCommitted: () => undefined,
    });
    for (let seq = 0; seq < 4; seq++) {
      const served = d.serve({ seq, messages: 1 });
      await tick();
      s.release('serve');
      await served;
      await tick();
      expect(s.log.filter((l) => l.startsWith('store'))).toEqual(seq < 3 ? [] : ['store 0,1,2,3']);
    }
  });

  it('drain() resolves once everything handed over is committed', async () => {
    const s = stages();
    const d = new Delivery(s.stages, {
      flushMs: 60_000,
      flushMaxMessages: 1_000,
      onCommitted: () => undefined,
    });
    const served = d.serve({ seq: 0, messages: 5 });
    await tick();
    s.release('serve');
    await served;
    let drained = false;
    const done = d.drain().then(() => (drained = true));
    await tick();
    expect(s.log).toEqual(['serve 0', 'store 0']);
    s.release('store');
    await tick();
    expect(drained).toBe(false);
    s.release('commit');
    await done;
    expect(drained).toBe(true);
  });
});
