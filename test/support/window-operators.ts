import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';
import { WindowEngine } from '../../stream/windowing/window-engine.js';
import type { Aggregator, WindowOutput, WindowSpec } from '../../stream/windowing/types.js';

/**
 * RxJS drivers of the window engine, for marble tests of its semantics
 * (test/unit/window-marbles.test.ts). The product does not use them: the feature store drives
 * its engines directly (features/feature-store.ts, piped by operators/update-features.ts), so
 * they live with the tests rather than in `operators/`.
 */

/** What every keyed window operator needs besides the window shape. */
export interface KeyedWindowOptions<T, K, A, R> {
  readonly keyOf: (event: T) => K;
  /** Event time in epoch ms. */
  readonly timestampOf: (event: T) => number;
  readonly aggregator: Aggregator<T, A, R>;
  readonly outOfOrdernessMs?: number;
  readonly allowedLatenessMs?: number;
  /** Emit a `close` result when a window's lateness period ends unchanged (default true). */
  readonly emitOnClose?: boolean;
  /**
   * When the source completes, advance the watermark to +Infinity so every open window emits
   * its final result (default true): a bounded input has no more late data to wait for.
   */
  readonly flushOnComplete?: boolean;
}

/**
 * The glue every window operator shares: one engine per subscription (so re-subscribing starts
 * from empty state), `feed` puts each input into it and advances the watermark once, `emit`
 * passes what fired downstream (`flushing` on the final flush at completion); an engine error
 * becomes the stream's error.
 */
function driveEngine<In, Out, T, K, A, R>(
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
function engineOperator<T, K, A, R>(
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

export interface TumblingWindowOptions<T, K, A, R> extends KeyedWindowOptions<T, K, A, R> {
  readonly sizeMs: number;
  /** Shifts window boundaries away from multiples of the size (e.g. a time zone), default 0. */
  readonly offsetMs?: number;
}

/**
 * Keyed event-time tumbling windows `[n·size + offset, (n+1)·size + offset)`. Emits a `window`
 * result when the watermark passes a window's end, updated results for late events within the
 * allowed lateness, and a `late` item for anything later than that.
 */
export function tumblingWindow<T, K, A, R>(
  options: TumblingWindowOptions<T, K, A, R>,
): OperatorFunction<T, WindowOutput<K, T, R>> {
  return engineOperator(
    { kind: 'tumbling', size: options.sizeMs, offset: options.offsetMs },
    options,
  );
}

export interface HoppingWindowOptions<T, K, A, R> extends KeyedWindowOptions<T, K, A, R> {
  readonly sizeMs: number;
  /** A new window starts every slide; must not exceed the size. */
  readonly slideMs: number;
  readonly offsetMs?: number;
  /**
   * `on-change`: keep slide-sized panes and emit a window only where it differs from the
   * previous one of its key (including the empty window once the key goes quiet); see
   * PaneWindows. Default `every-window`.
   */
  readonly emit?: 'every-window' | 'on-change';
  /** `on-change` only: the aggregate depends on the window's last `tailMs` (see WindowSpec). */
  readonly tailMs?: number;
}

/**
 * Keyed event-time hopping (sliding) windows: each event updates the ceil(size / slide)
 * windows that contain it, incrementally, so a result is available every slide without
 * re-reading the window's events.
 */
export function hoppingWindow<T, K, A, R>(
  options: HoppingWindowOptions<T, K, A, R>,
): OperatorFunction<T, WindowOutput<K, T, R>> {
  return engineOperator(
    {
      kind: 'hopping',
      size: options.sizeMs,
      slide: options.slideMs,
      offset: options.offsetMs,
      emit: options.emit,
      tailMs: options.tailMs,
    },
    options,
  );
}

export interface SessionWindowOptions<T, K, A, R> extends KeyedWindowOptions<T, K, A, R> {
  /** Inactivity gap: a pause longer than this ends the session. */
  readonly gapMs: number;
}

/**
 * Keyed event-time session windows `[first ts, last ts + gap)`. A late event that bridges two
 * sessions merges them (aggregates are merged, not recomputed); the merged result lists the
 * previously emitted bounds it replaces in `retracts`.
 */
export function sessionWindow<T, K, A, R>(
  options: SessionWindowOptions<T, K, A, R>,
): OperatorFunction<T, WindowOutput<K, T, R>> {
  return engineOperator({ kind: 'session', gap: options.gapMs }, options);
}

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
