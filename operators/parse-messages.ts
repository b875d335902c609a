import { map, type OperatorFunction } from 'rxjs';
import { validateMessage, type ValidationClock } from '../stream/validate-event.js';
import { validateItemMessage } from '../stream/validate-item.js';
import { validatePreferenceMessage } from '../stream/validate-preferences.js';
import type {
  Batch,
  DeadLetter,
  GraphBatch,
  ItemEvent,
  PreferenceUpdate,
  RawMessage,
  SourcedEvent,
} from './types.js';

const EMPTY_MAP: ReadonlyMap<string, readonly string[]> = new Map();

/**
 * Raw messages → accepted clickstream events, catalog item updates (messages of `itemsTopic`),
 * preference updates (messages of `preferencesTopic`, CONTRACT §5) and dead letters with the
 * reason; nothing is dropped and nothing throws. `now` stamps dead
 * letters; `clock` is what event time may not run ahead of (the wall clock by default).
 *
 * ```
 * source: --a[e1,{bad,e2]--b[item i9,e3]--|          (Batch<RawMessage>)
 *     parseMessages(Date.now, 'items')
 * result: --a{e1,e2; dead: malformed_json}--b{e3; items: i9}--|   (GraphBatch)
 * ```
 *
 * @example
 * consumer.batches().pipe(parseMessages(Date.now, 'items'), dedupeEvents(100_000));
 */
export function parseMessages(
  now: () => number = Date.now,
  itemsTopic?: string,
  clock: ValidationClock = {},
  preferencesTopic?: string,
): OperatorFunction<Batch<RawMessage>, GraphBatch> {
  const validate = (m: RawMessage) => {
    try {
      return m.topic === itemsTopic
        ? validateItemMessage(m.value, clock)
        : m.topic === preferencesTopic
          ? validatePreferenceMessage(m.value, clock)
          : validateMessage(m.value, clock);
    } catch (err) {
      // Validation is written not to throw; should it ever, one message must still not stop the job.
      return { ok: false as const, reason: `unprocessable: ${String(err).slice(0, 200)}` };
    }
  };
  return map((batch) => {
    const events: SourcedEvent[] = [];
    const items: ItemEvent[] = [];
    const preferences: PreferenceUpdate[] = [];
    const deadLetters: DeadLetter[] = [];
    for (const m of batch.items) {
      const v = validate(m);
      if (v.ok && 'item' in v) {
        items.push(v.item);
      } else if (v.ok && 'preference' in v) {
        preferences.push(v.preference);
      } else if (v.ok) {
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
      items,
      duplicates: 0,
      deadLetters,
      recommendations: [],
      purchases: EMPTY_MAP,
      features: [],
      lateFeatureEvents: 0,
      watermark: Number.NEGATIVE_INFINITY,
      ...(preferences.length > 0 && { preferences }),
      ...(batch.idleAt !== undefined && { idleAt: batch.idleAt }),
    };
  });
}
