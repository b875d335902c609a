import { map, type OperatorFunction } from 'rxjs';
import type { ErasedUsers } from '../privacy/erased-users.js';
import type { GraphBatch } from './types.js';

/**
 * Right to erasure: drops the events of erased users dated at or before their request (still in
 * flight when it arrived), so they neither rebuild the user's state nor land in the stores again.
 *
 * ```
 * source: --a{u1@5,u2@5}--b{u1@20}--|      (u1 erased, request at 10)
 *     dropErased(erased)
 * result: --a{u2@5}--------b{u1@20}--|      (u1's later activity is new)
 * ```
 *
 * @example
 * accepted.pipe(dropErased(privacy.erased), updateFeatures(store));
 */
export function dropErased(erased: ErasedUsers): OperatorFunction<GraphBatch, GraphBatch> {
  return map((batch) => {
    if (erased.size === 0 || batch.events.length === 0) return batch;
    const events = batch.events.filter((e) => !erased.covers(e.event.userId, e.event.ts));
    return events.length === batch.events.length ? batch : { ...batch, events };
  });
}
