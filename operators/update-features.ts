import { map, type OperatorFunction } from 'rxjs';
import type { ClickEvent } from '../models/event.js';
import type { FeatureStore } from '../features/feature-store.js';
import { PartitionWatermarks } from '../stream/partition-watermarks.js';
import type { GraphBatch } from './types.js';

/**
 * Feeds each batch's accepted events (and catalog updates) into the event-time feature store,
 * which readers such as recommenders and push triggers share, and attaches the feature values
 * for the sinks: one row per feature of each window the batch changed (FeatureStore.ingest), so
 * ClickHouse keeps every window's value and Redis serves the newest window of each feature.
 *
 * ```
 * source: --a{u1 view@t}--b{u1 cart@t+1h}--|
 *     updateFeatures(store)
 * result: --a{features: u1 views_1h=1,…}--b{features: windows closed or changed by b}--|
 * ```
 *
 * @example
 * accepted.pipe(updateFeatures(store, { idlePartitionMs: 5_000 }), learnAndRecommend(opts));
 */
export function updateFeatures(
  store: FeatureStore,
  opts: { idlePartitionMs?: number; now?: () => number } = {},
): OperatorFunction<GraphBatch, GraphBatch> {
  const now = opts.now ?? Date.now;
  const partitions = new PartitionWatermarks(opts.idlePartitionMs ?? 5_000);
  return map((batch) => {
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
    const out = store.ingest(events, partitions.cap(t) - store.config.outOfOrdernessMs);
    return {
      ...batch,
      features: out.sets,
      lateFeatureEvents: batch.lateFeatureEvents + out.late.length,
      watermark: out.watermark,
    };
  });
}
