import { map, type OperatorFunction } from 'rxjs';
import { validateMessage } from '../models/validate-event.js';
import type { Batch, DeadLetter, GraphBatch, RawMessage, SourcedEvent } from './types.js';

const EMPTY_MAP: ReadonlyMap<string, readonly string[]> = new Map();

/** Raw messages → accepted events and dead letters (with the reason); nothing is dropped. */
export function parseMessages(
  now: () => number = Date.now,
): OperatorFunction<Batch<RawMessage>, GraphBatch> {
  return map((batch) => {
    const events: SourcedEvent[] = [];
    const deadLetters: DeadLetter[] = [];
    for (const m of batch.items) {
      const v = validateMessage(m.value);
      if (v.ok) {
        events.push({ event: v.event, topic: m.topic, partition: m.partition, offset: m.offset });
      } else {
        deadLetters.push({
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          ...(m.key !== undefined && { key: m.key }),
          payload: typeof m.value === 'string' ? m.value : m.value.toString('utf8'),
          reason: v.reason,
          receivedAt: now(),
        });
      }
    }
    return {
      seq: batch.seq,
      commits: batch.commits,
      messages: batch.items.length,
      events,
      duplicates: 0,
      deadLetters,
      recommendations: [],
      purchases: EMPTY_MAP,
      features: [],
      lateFeatureEvents: 0,
      watermark: Number.NEGATIVE_INFINITY,
    };
  });
}
