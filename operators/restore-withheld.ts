import { map, type OperatorFunction } from 'rxjs';
import type { GraphBatch } from './types.js';

/** The events withholdOptedOut set aside, back into the batch for the stores. */
export function restoreWithheld(): OperatorFunction<GraphBatch, GraphBatch> {
  return map((batch) => {
    if (!batch.withheld) return batch;
    const { withheld, ...rest } = batch;
    return { ...rest, events: [...batch.events, ...withheld] };
  });
}
