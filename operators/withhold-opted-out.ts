import { map, type OperatorFunction } from 'rxjs';
import type { ConsentRegistry } from '../privacy/consent.js';
import type { GraphBatch, SourcedEvent } from './types.js';

/**
 * Consent (issue 16): takes the batch's preference messages into `consent`, then sets the events
 * of users opted out of personalisation aside (`withheld`), so features, learning, serving lists
 * and push triggers never see them; restoreWithheld puts them back for the stores (ClickHouse
 * keeps every accepted event). A preference applies from its batch on.
 *
 * ```
 * source: --a{u1,u2; u1 opts out}--b{u1,u2}--|
 *     withholdOptedOut(consent)
 * result: --a{u2; withheld u1}------b{u2; withheld u1}--|
 * ```
 *
 * @example
 * accepted.pipe(withholdOptedOut(consent), learnAndRecommend(opts), restoreWithheld());
 */
export function withholdOptedOut(
  consent: ConsentRegistry,
): OperatorFunction<GraphBatch, GraphBatch> {
  return map((batch) => {
    if (batch.preferences) consent.apply(batch.preferences);
    if (consent.size === 0 || batch.events.length === 0) return batch;
    const events: SourcedEvent[] = [];
    const withheld: SourcedEvent[] = [];
    for (const e of batch.events) (consent.isOptedOut(e.event.userId) ? withheld : events).push(e);
    return withheld.length === 0 ? batch : { ...batch, events, withheld };
  });
}
