import { map, type OperatorFunction } from 'rxjs';
import type { GraphBatch } from './types.js';

/**
 * The events withholdOptedOut set aside, back into the batch (after the others) for the stores.
 *
 * ```
 * source: --a{u2; withheld u1}--b{u3}--|
 *     restoreWithheld()
 * result: --a{u2,u1}------------b{u3}--|
 * ```
 *
 * @example
 * accepted.pipe(withholdOptedOut(consent), learnAndRecommend(opts), restoreWithheld());
 */
export function restoreWithheld(): OperatorFunction<GraphBatch, GraphBatch> {
  return map((batch) => {
    if (!batch.withheld) return batch;
    const { withheld, ...rest } = batch;
    return { ...rest, events: [...batch.events, ...withheld] };
  });
}
