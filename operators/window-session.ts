import type { OperatorFunction } from 'rxjs';
import type { WindowOutput } from '../stream/windowing/types.js';
import { engineOperator } from './windowing/engine-operator.js';
import type { KeyedWindowOptions } from './windowing/keyed-window-options.js';

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
