import type { OperatorFunction } from 'rxjs';
import type { WindowOutput } from '../stream/windowing/types.js';
import { engineOperator } from './windowing/engine-operator.js';
import type { KeyedWindowOptions } from './windowing/keyed-window-options.js';

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
