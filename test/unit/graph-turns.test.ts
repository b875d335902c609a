import { concatMap, from, lastValueFrom, map, mergeMap, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { FeatureStore } from '../../features/feature-store.js';
import { PurchaseHistory } from '../../models/purchase-history.js';
import { createRecommender } from '../../models/registry.js';
import { learnAndRecommend } from '../../operators/learn-and-recommend.js';
import { updateFeatures } from '../../operators/update-features.js';
import { featureRows } from '../../features/types.js';
import type { Batch, GraphBatch, RawMessage } from '../../operators/types.js';
import { yieldTurn } from '../../operators/yield-turn.js';
import { recpipeIngest, recpipeProcess, type GraphOptions } from '../../pipeline/graph.js';
import { BatchGate } from '../../pipeline/runtime/batch-gate.js';
import { yieldToEventLoop } from '../../pipeline/runtime/event-loop.js';

/** A small shop stream: users revisit items of a few categories, some buy. */
function shopBatches(seed: number, batches: number, perBatch: number): Batch<RawMessage>[] {
  let x = seed;
  const rnd = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    return (x >>> 8) % n;
  };
  const types = ['view', 'view', 'view', 'click', 'add_to_cart', 'purchase'];
  const out: Batch<RawMessage>[] = [];
  let offset = 0;
  for (let b = 0; b < batches; b++) {
    const items: RawMessage[] = [];
    for (let i = 0; i < perBatch; i++, offset++) {
      const item = rnd(60);
      items.push({
        topic: 't',
        partition: 0,
        offset,
        value: JSON.stringify({
          event_id: `e${offset}`,
          ts: 1_767_225_600_000 + offset * 1_000,
          user_id: `u${rnd(40)}`,
          item_id: `i${item}`,
          type: types[rnd(types.length)],
          category: `c${item % 5}`,
          price: 10 + (item % 7),
        }),
      });
    }
    out.push({ seq: b, commits: [], items });
  }
  return out;
}

/** What a processed batch serves, without the wall-clock refresh time. */
const served = (b: GraphBatch) => ({
  seq: b.seq,
  recommendations: b.recommendations.map((r) => ({ ...r, updatedAt: 0 })),
  purchases: [...b.purchases],
  features: b.features.length,
});

function options(turn?: () => Promise<void>): GraphOptions {
  return {
    recommender: createRecommender('default'),
    history: new PurchaseHistory(),
    features: new FeatureStore({}),
    topK: 10,
    dedupeCapacity: 1_000,
    modelVersion: 'v',
    idlePartitionMs: 0,
    ...(turn && { turn }),
  };
}

describe('BatchGate', () => {
  it('holds the next batch at the entry until the one inside left, in arrival order', async () => {
    const gate = new BatchGate();
    const log: string[] = [];
    await lastValueFrom(
      from([
        ['a', 3],
        ['b', 0],
        ['c', 2],
      ] as const).pipe(
        // the entry as run's hydrate stage does it
        concatMap(([name, turns]) =>
          gate.enter().then(() => {
            log.push(`in ${name}`);
            return { name, turns };
          }),
        ),
        // work over several turns with no order of its own; the exit as run's claim stage
        mergeMap(async ({ name, turns }) => {
          for (let i = 0; i < turns; i++) await yieldToEventLoop();
          log.push(`out ${name}`);
          gate.leave();
        }),
        toArray(),
      ),
    );
    expect(log).toEqual(['in a', 'out a', 'in b', 'out b', 'in c', 'out c']);
    expect(gate.busy).toBe(false);
  });

  it('lets callers that asked at once in one by one, in the order they asked', async () => {
    const gate = new BatchGate();
    const log: string[] = [];
    const holder = async (name: string, turns: number): Promise<void> => {
      await gate.enter();
      log.push(`in ${name}`);
      for (let i = 0; i < turns; i++) await yieldToEventLoop();
      log.push(`out ${name}`);
      gate.leave();
    };
    // the hydrate stage and the analytics lane ask without waiting for each other
    await Promise.all([holder('batch', 2), holder('analytics', 3), holder('next', 0)]);
    expect(log).toEqual([
      'in batch',
      'out batch',
      'in analytics',
      'out analytics',
      'in next',
      'out next',
    ]);
    expect(gate.busy).toBe(false);
  });

  it('ignores a leave without an enter', async () => {
    const gate = new BatchGate();
    gate.leave();
    await gate.enter();
    expect(gate.busy).toBe(true);
    gate.leave();
    await gate.enter();
    expect(gate.busy).toBe(true);
  });
});

describe('yieldTurn', () => {
  it('passes every value on, in order, each after its turn', async () => {
    const turns: number[] = [];
    let n = 0;
    const out = await lastValueFrom(
      of(1, 2, 3).pipe(
        yieldTurn<number>(async () => {
          turns.push(++n);
          await yieldToEventLoop();
        }),
        toArray(),
      ),
    );
    expect(out).toEqual([1, 2, 3]);
    expect(turns).toEqual([1, 2, 3]);
  });
});

describe('the graph with turns (run) serves what it serves without them (replay)', () => {
  it('learnAndRecommend: the same lists, however many users and events per turn', async () => {
    const batches = shopBatches(7, 6, 120);
    const run = async (
      turn?: () => Promise<void>,
      usersPerTurn?: number,
      eventsPerTurn?: number,
    ) => {
      const o = options();
      const ingest = recpipeIngest(o);
      let turnsTaken = 0;
      const out = await lastValueFrom(
        from(batches).pipe(
          ingest,
          learnAndRecommend({
            recommender: o.recommender,
            history: o.history,
            topK: 10,
            modelVersion: 'v',
            ...(turn && {
              turn: () => {
                turnsTaken++;
                return turn();
              },
            }),
            ...(usersPerTurn !== undefined && { usersPerTurn }),
            ...(eventsPerTurn !== undefined && { eventsPerTurn }),
          }),
          map(served),
          toArray(),
        ),
      );
      return { out, turnsTaken };
    };
    const sync = await run();
    const sliced = await run(yieldToEventLoop, 7);
    expect(sliced.out).toEqual(sync.out);
    expect(sync.out.flatMap((b) => b.recommendations).length).toBeGreaterThan(100);
    // 40 users, 7 per turn: several turns per batch
    expect(sliced.turnsTaken).toBeGreaterThanOrEqual(6 * 4);
    // and 120 events, 13 learned per turn: nine more turns per batch
    const learnedInParts = await run(yieldToEventLoop, 7, 13);
    expect(learnedInParts.out).toEqual(sync.out);
    expect(learnedInParts.turnsTaken).toBeGreaterThanOrEqual(sliced.turnsTaken + 6 * 8);
  });

  it('updateFeatures: the same feature sets, watermarks and late counts, a turn after every event', async () => {
    const batches = shopBatches(5, 6, 90);
    const run = async (turn?: () => Promise<void>) => {
      const store = new FeatureStore({ emitRows: true });
      let turns = 0;
      const out = await lastValueFrom(
        from(batches).pipe(
          recpipeIngest(options()),
          updateFeatures(store, {
            ...(turn && {
              turn: () => {
                turns++;
                return turn();
              },
              sliceMs: 0,
            }),
          }),
          map((b) => ({ features: b.features, late: b.lateFeatureEvents, wm: b.watermark })),
          toArray(),
        ),
      );
      return { out, taken: featureRows(store.takeChanged()), turns };
    };
    const sync = await run();
    const sliced = await run(yieldToEventLoop);
    expect(sliced.out).toEqual(sync.out);
    expect(sliced.taken).toEqual(sync.taken);
    expect(sync.taken.length).toBeGreaterThan(100);
    expect(sliced.turns).toBeGreaterThanOrEqual(6 * 80);
  });

  it('recpipeProcess: the same lists, purchases and feature sets, batch by batch behind a gate', async () => {
    const batches = shopBatches(11, 8, 150);
    const sync = options();
    const expected = await lastValueFrom(
      from(batches).pipe(recpipeIngest(sync), recpipeProcess(sync), map(served), toArray()),
    );
    const turned = options(yieldToEventLoop);
    const gate = new BatchGate();
    const got = await lastValueFrom(
      from(batches).pipe(
        recpipeIngest(turned),
        concatMap((b) => gate.enter().then(() => b)),
        recpipeProcess(turned),
        map((b) => {
          gate.leave();
          return served(b);
        }),
        toArray(),
      ),
    );
    expect(got).toEqual(expected);
    expect(expected.flatMap((b) => b.recommendations).length).toBeGreaterThan(100);
  });
});
