import type { Aggregator } from '../../stream/windowing/types.js';

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
