import { map, type OperatorFunction } from 'rxjs';
import { BoundedIdSet } from '../stream/bounded-id-set.js';
import type { GraphBatch, SourcedEvent } from './types.js';

/** CONTRACT §1: the same event_id twice is one event. Memory is bounded by `capacity` ids. */
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
