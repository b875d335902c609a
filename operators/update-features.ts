import { map, type OperatorFunction } from 'rxjs';
import type { ClickEvent } from '../models/event.js';
import type { FeatureStore } from '../models/features/feature-store.js';
import type { FeatureRow } from '../models/features/types.js';
import { PartitionWatermarks } from '../models/partition-watermarks.js';
import type { GraphBatch } from './types.js';

/**
 * Feeds each batch's accepted events (and catalog updates) into the event-time feature store,
 * which readers such as recommenders and push triggers share, and attaches the feature values
 * for the sinks. The store emits a row per window a pane enters or leaves (about 30 per event);
 * the sinks only need each feature's newest window as of this batch, so that is what is kept:
 * Redis serves current values and ClickHouse keeps one snapshot per window and batch.
 */
export function updateFeatures(
  store: FeatureStore,
  opts: { idlePartitionMs?: number; now?: () => number } = {},
): OperatorFunction<GraphBatch, GraphBatch> {
  const now = opts.now ?? Date.now;
  const partitions = new PartitionWatermarks(opts.idlePartitionMs ?? 5_000);
  return map((batch) => {
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
      features: newestPerFeature(out.rows),
      lateFeatureEvents: batch.lateFeatureEvents + out.late.length,
      watermark: out.watermark,
    };
  });
}

/** Per (entity, key, feature), the row of the latest window (the last emitted on ties). */
export function newestPerFeature(rows: readonly FeatureRow[]): FeatureRow[] {
  const newest = new Map<string, FeatureRow>();
  for (const r of rows) {
    const id = `${r.entity}\u0000${r.key}\u0000${r.feature}`;
    const prev = newest.get(id);
    if (!prev || r.windowEnd >= prev.windowEnd) newest.set(id, r);
  }
  return [...newest.values()];
}
