import { map, type OperatorFunction } from 'rxjs';
import type { ClickEvent } from '../models/event.js';
import type { FeatureStore } from '../models/features/feature-store.js';
import type { FeatureRow } from '../models/features/types.js';
import type { GraphBatch } from './types.js';

/**
 * Feeds each batch's accepted events (and catalog updates) into the event-time feature store,
 * which readers such as recommenders and push triggers share, and attaches the feature values
 * for the sinks. The store emits a row per window a pane enters or leaves (about 30 per event);
 * the sinks only need each feature's newest window as of this batch, so that is what is kept:
 * Redis serves current values and ClickHouse keeps one snapshot per window and batch.
 */
export function updateFeatures(store: FeatureStore): OperatorFunction<GraphBatch, GraphBatch> {
  return map((batch) => {
    for (const item of batch.items) store.observeItem(item);
    const events: ClickEvent[] = new Array<ClickEvent>(batch.events.length);
    for (let i = 0; i < batch.events.length; i++) {
      events[i] = (batch.events[i] as GraphBatch['events'][number]).event;
    }
    const out = store.ingest(events);
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
