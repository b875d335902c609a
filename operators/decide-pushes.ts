import { map, type OperatorFunction } from 'rxjs';
import type { ClickEvent } from '../models/event.js';
import type { PushEngine } from '../push/engine.js';
import type { GraphBatch } from './types.js';

/**
 * Push decisioning over each batch: catalog updates, events, fresh recommendations and the
 * event-time watermark go into the engine's triggers and policy; the batch comes out with every
 * decision (sent, deferred, suppressed) and the messages of the sent ones. Runs after
 * recommendations are refreshed, so "a new recommendation worth pushing" sees this batch's lists.
 *
 * ```
 * source: --a{u1 add_to_cart i1 @t}---------b{watermark t+1h}--|
 *     decidePushes(engine)
 * result: --a{pushes: [], outcomes: []}-----b{pushes: [u1 cart sent]; pushMessages: [..]}--|
 * ```
 *
 * @example
 * served.pipe(decidePushes(new PushEngine(pushOptions, features)));
 */
export function decidePushes(engine: PushEngine): OperatorFunction<GraphBatch, GraphBatch> {
  return map((batch) => {
    const events: ClickEvent[] = new Array<ClickEvent>(batch.events.length);
    for (let i = 0; i < batch.events.length; i++)
      events[i] = (batch.events[i] as GraphBatch['events'][number]).event;
    const out = engine.process({
      events,
      items: batch.items,
      ...(batch.preferences && { preferences: batch.preferences }),
      recommendations: batch.recommendations,
      watermark: batch.watermark,
    });
    return {
      ...batch,
      pushes: out.decisions,
      pushMessages: out.messages,
      pushOutcomes: out.outcomes,
    };
  });
}
