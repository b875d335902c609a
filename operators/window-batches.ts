import type { OperatorFunction } from 'rxjs';
import type { WindowOutput, WindowSpec } from '../stream/windowing/types.js';
import { driveEngine } from './windowing/engine-operator.js';
import type { KeyedWindowOptions } from './windowing/keyed-window-options.js';

export interface WindowBatchesOptions<T, K, A, R> extends KeyedWindowOptions<T, K, A, R> {
  readonly window: WindowSpec;
}

/**
 * The batch form for the pipeline graph: one output array per input batch (empty when nothing
 * fired, so batches stay 1:1 and the runtime can line outputs up with the batch's offsets).
 * The watermark advances once per batch, so events of a batch are judged against the watermark
 * left by the previous batches, and the per-batch cost is one heap scan instead of one per event.
 */
export function windowBatches<T, K, A, R>(
  options: WindowBatchesOptions<T, K, A, R>,
): OperatorFunction<readonly T[], readonly WindowOutput<K, T, R>[]> {
  const { keyOf, timestampOf } = options;
  return driveEngine<readonly T[], readonly WindowOutput<K, T, R>[], T, K, A, R>(
    options.window,
    options,
    (engine, batch) => {
      for (const e of batch) engine.add(keyOf(e), timestampOf(e), e);
    },
    // the final flush is no input batch: it only emits when something fired
    (outs, to, flushing) => {
      if (!flushing || outs.length > 0) to.next(outs);
    },
  );
}
