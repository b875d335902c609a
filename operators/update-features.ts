import { map, type OperatorFunction } from 'rxjs';
import type { ClickEvent } from '../models/event.js';
import type { FeatureStore } from '../models/features/feature-store.js';
import type { GraphBatch } from './types.js';

/**
 * Feeds each batch's accepted events into the event-time feature store (which readers such as
 * recommenders and push triggers share) and attaches the feature rows whose windows fired, for
 * the Redis and ClickHouse sinks. Late events that no window could count are counted, not lost.
 */
export function updateFeatures(store: FeatureStore): OperatorFunction<GraphBatch, GraphBatch> {
  return map((batch) => {
    for (const item of batch.items) store.observeItem(item);
    const events: ClickEvent[] = new Array<ClickEvent>(batch.events.length);
    for (let i = 0; i < batch.events.length; i++)
      events[i] = (batch.events[i] as GraphBatch['events'][number]).event;
    const out = store.ingest(events);
    return {
      ...batch,
      features: out.rows,
      lateFeatureEvents: batch.lateFeatureEvents + out.late.length,
      watermark: out.watermark,
    };
  });
}
