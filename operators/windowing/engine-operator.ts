import { Observable, type OperatorFunction } from 'rxjs';
import { WindowEngine } from '../../models/windowing/window-engine.js';
import type { WindowOutput, WindowSpec } from '../../models/windowing/types.js';
import type { KeyedWindowOptions } from './keyed-window-options.js';

/**
 * The per-event glue the tumbling, hopping and session operators share: one engine per
 * subscription (so re-subscribing starts from empty state), the watermark advanced after every
 * event, outputs emitted synchronously in the engine's order.
 */
export function engineOperator<T, K, A, R>(
  window: WindowSpec,
  options: KeyedWindowOptions<T, K, A, R>,
): OperatorFunction<T, WindowOutput<K, T, R>> {
  return (source) =>
    new Observable<WindowOutput<K, T, R>>((subscriber) => {
      const engine = new WindowEngine<K, T, A, R>({
        window,
        aggregator: options.aggregator,
        outOfOrdernessMs: options.outOfOrdernessMs,
        allowedLatenessMs: options.allowedLatenessMs,
        emitOnClose: options.emitOnClose,
      });
      const emitAll = (outs: readonly WindowOutput<K, T, R>[]): void => {
        for (const o of outs) subscriber.next(o);
      };
      return source.subscribe({
        next(event) {
          let outs: WindowOutput<K, T, R>[];
          try {
            engine.add(options.keyOf(event), options.timestampOf(event), event);
            outs = engine.advanceWatermark();
          } catch (err) {
            subscriber.error(err);
            return;
          }
          emitAll(outs);
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
            emitAll(outs);
          }
          subscriber.complete();
        },
      });
    });
}
