import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';
import { WindowEngine } from '../../stream/windowing/window-engine.js';
import type { WindowOutput, WindowSpec } from '../../stream/windowing/types.js';
import type { KeyedWindowOptions } from './keyed-window-options.js';

/**
 * The glue every window operator shares: one engine per subscription (so re-subscribing starts
 * from empty state), `feed` puts each input into it and advances the watermark once, `emit`
 * passes what fired downstream (`flushing` on the final flush at completion); an engine error
 * becomes the stream's error.
 */
export function driveEngine<In, Out, T, K, A, R>(
  window: WindowSpec,
  options: KeyedWindowOptions<T, K, A, R>,
  feed: (engine: WindowEngine<K, T, A, R>, input: In) => void,
  emit: (outs: readonly WindowOutput<K, T, R>[], to: Subscriber<Out>, flushing: boolean) => void,
): OperatorFunction<In, Out> {
  return (source) =>
    new Observable<Out>((subscriber) => {
      const engine = new WindowEngine<K, T, A, R>({
        window,
        aggregator: options.aggregator,
        outOfOrdernessMs: options.outOfOrdernessMs,
        allowedLatenessMs: options.allowedLatenessMs,
        emitOnClose: options.emitOnClose,
      });
      return source.subscribe({
        next(input) {
          let outs: WindowOutput<K, T, R>[];
          try {
            feed(engine, input);
            outs = engine.advanceWatermark();
          } catch (err) {
            subscriber.error(err);
            return;
          }
          emit(outs, subscriber, false);
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
            emit(outs, subscriber, true);
          }
          subscriber.complete();
        },
      });
    });
}

/**
 * The per-event form the tumbling, hopping and session operators share: the watermark advanced
 * after every event, outputs emitted synchronously in the engine's order.
 */
export function engineOperator<T, K, A, R>(
  window: WindowSpec,
  options: KeyedWindowOptions<T, K, A, R>,
): OperatorFunction<T, WindowOutput<K, T, R>> {
  return driveEngine<T, WindowOutput<K, T, R>, T, K, A, R>(
    window,
    options,
    (engine, event) => engine.add(options.keyOf(event), options.timestampOf(event), event),
    (outs, to) => {
      for (const o of outs) to.next(o);
    },
  );
}
