import { Observable, type OperatorFunction } from 'rxjs';
import { WindowEngine } from '../models/windowing/window-engine.js';
import type { WindowOutput, WindowSpec } from '../models/windowing/types.js';
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
  return (source) =>
    new Observable<readonly WindowOutput<K, T, R>[]>((subscriber) => {
      const engine = new WindowEngine<K, T, A, R>({
        window: options.window,
        aggregator: options.aggregator,
        outOfOrdernessMs: options.outOfOrdernessMs,
        allowedLatenessMs: options.allowedLatenessMs,
        emitOnClose: options.emitOnClose,
      });
      const { keyOf, timestampOf } = options;
      return source.subscribe({
        next(batch) {
          let outs: WindowOutput<K, T, R>[];
          try {
            for (const e of batch) engine.add(keyOf(e), timestampOf(e), e);
            outs = engine.advanceWatermark();
          } catch (err) {
            subscriber.error(err);
            return;
          }
          subscriber.next(outs);
        },
        error: (err: unknown) => subscriber.error(err),
        complete() {
          if (options.flushOnComplete ?? true) {
            let outs: WindowOutput<K, T, R>[];
            try {
              outs = engine.flush();
            } catch (err) {
              subscriber.error(err);
              return;
            }
            if (outs.length > 0) subscriber.next(outs);
          }
          subscriber.complete();
        },
      });
    });
}
