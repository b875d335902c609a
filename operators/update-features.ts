import { map, type OperatorFunction } from 'rxjs';
import type { ClickEvent } from '../models/event.js';
import { allSteps } from '../models/core/steps.js';
import type { FeatureStore } from '../features/feature-store.js';
import { PartitionWatermarks } from '../stream/partition-watermarks.js';
import type { GraphBatch } from './types.js';
import { SLICE_MS, inSlices } from './yield-turn.js';

/**
 * Feeds each batch's accepted events (and catalog updates) into the event-time feature store,
 * which readers such as recommenders and push triggers share, and attaches the feature sets the
 * batch's watermark move makes final: closed sessions, and the pending windows of keys whose
 * window would close before the sink read them (FeatureStore.ingest). The other windows the
 * batch changed are read by the analytics lane on its own interval (FeatureStore.takeChanged),
 * once per key however many batches touched it.
 *
 * ```
 * source: --a{u1 view @10:00}--b{u1 cart @11:00}-------------------------c{u1 view @10:00}--|
 *     updateFeatures(store)    (a 1 h tumbling user window, no out-of-orderness)
 * result: --a{features: []}----b{u1 1h [10,11) view=1, [11,12) cart=1,    c{late: +3}--------|
 *                                 u1 session closed}
 * ```
 *
 * @example
 * accepted.pipe(updateFeatures(store, { idlePartitionMs: 5_000 }), learnAndRecommend(opts));
 */
export function updateFeatures(
  store: FeatureStore,
  opts: {
    idlePartitionMs?: number;
    now?: () => number;
    /**
     * Awaited whenever a batch's ingest has worked `sliceMs` (default SLICE_MS) since the last
     * turn (run passes a macrotask); without it the operator is synchronous, as replay needs.
     */
    turn?: () => Promise<void>;
    sliceMs?: number;
  } = {},
): OperatorFunction<GraphBatch, GraphBatch> {
  const now = opts.now ?? Date.now;
  const partitions = new PartitionWatermarks(opts.idlePartitionMs ?? 5_000);
  const steps = (batch: GraphBatch, due?: () => boolean): Generator<void, GraphBatch> =>
    ingestBatch(store, partitions, now, batch, due);
  return opts.turn === undefined
    ? map((batch) => allSteps(steps(batch)))
    : inSlices(opts.turn, opts.sliceMs ?? SLICE_MS, steps);
}

function* ingestBatch(
  store: FeatureStore,
  partitions: PartitionWatermarks,
  now: () => number,
  batch: GraphBatch,
  due?: () => boolean,
): Generator<void, GraphBatch, undefined> {
  // An idle tick (run's source, caught up and quiet): event time follows the wall clock, less
  // the allowed lateness, so pending timers fire on a quiet stream (docs/features.md).
  if (batch.idleAt !== undefined) {
    const idle = store.advanceIdle(batch.idleAt - store.config.allowedLatenessMs);
    return { ...batch, features: idle.sets, watermark: idle.watermark };
  }
  for (const item of batch.items) store.observeItem(item);
  const t = now();
  const events: ClickEvent[] = new Array<ClickEvent>(batch.events.length);
  for (let i = 0; i < batch.events.length; i++) {
    const e = batch.events[i] as GraphBatch['events'][number];
    events[i] = e.event;
    partitions.observe(`${e.topic}/${e.partition}`, e.event.ts, t);
  }
  // The cap is the slowest active partition's newest event; the store subtracts nothing from
  // it, so out-of-orderness inside a partition is still allowed by the store's own bound.
  const out = yield* store.ingestSteps(
    events,
    partitions.cap(t) - store.config.outOfOrdernessMs,
    due,
  );
  return {
    ...batch,
    features: out.sets,
    lateFeatureEvents: batch.lateFeatureEvents + out.late.length,
    watermark: out.watermark,
  };
}
