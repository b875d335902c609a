import { map, type OperatorFunction } from 'rxjs';
import { BoundedIdSet } from '../stream/bounded-id-set.js';
import type { GraphBatch, SourcedEvent } from './types.js';

/**
 * CONTRACT §1: the same event_id twice is one event. Memory is bounded by `capacity` ids (the
 * last distinct ones admitted), kept per subscription.
 *
 * ```
 * source: --a{e1,e2}--b{e2,e3}--|
 *     dedupeEvents(100)
 * result: --a{e1,e2}--b{e3} duplicates+1--|
 * ```
 *
 * @example
 * rawBatches.pipe(parseMessages(Date.now), dedupeEvents(cfg.pipeline.dedupeCapacity));
 */
export function dedupeEvents(capacity: number): OperatorFunction<GraphBatch, GraphBatch> {
  return (source) => {
    // Per subscription, so two runs of the same graph never share what they have seen.
    const seen = new BoundedIdSet(capacity);
    return source.pipe(
      map((batch) => {
        const events: SourcedEvent[] = [];
        for (const e of batch.events) if (seen.add(e.event.eventId)) events.push(e);
        return {
          ...batch,
          events,
          duplicates: batch.duplicates + batch.events.length - events.length,
        };
      }),
    );
  };
}
