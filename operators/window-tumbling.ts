import type { OperatorFunction } from 'rxjs';
import type { WindowOutput } from '../stream/windowing/types.js';
import { engineOperator } from './windowing/engine-operator.js';
import type { KeyedWindowOptions } from './windowing/keyed-window-options.js';

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
