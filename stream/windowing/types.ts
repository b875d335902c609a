/**
 * Event-time windowing vocabulary shared by the engine, the thin RxJS operators and the features.
 * All times are epoch milliseconds of event time; windows are half-open `[start, end)`.
 */

/**
 * - tumbling: fixed, non-overlapping windows of `size`, aligned to `offset` (default 0 = epoch).
 * - hopping: windows of `size` starting every `slide` (`slide <= size`, so every event lands in
 *   at least one window); an event belongs to ceil(size / slide) windows.
 * - session: per key, events closer than or exactly `gap` apart share one window
 *   `[first ts, last ts + gap)`; a pause longer than `gap` starts a new session.
 */
export type WindowSpec =
  | { readonly kind: 'tumbling'; readonly size: number; readonly offset?: number }
  | {
      readonly kind: 'hopping';
      readonly size: number;
      readonly slide: number;
      readonly offset?: number;
      /**
       * `every-window` (default): every window fires, as in Flink. `on-change`: windows are kept
       * as slide-sized panes and a window is emitted only where its content differs from the
       * previous window of its key, including the empty window after a key goes quiet (see
       * PaneWindows); needs size to be a multiple of slide. `on-read`: the same panes, but
       * nothing is emitted as the watermark advances: readers `query` a key's current window
       * (the feature store does, for the keys each batch touches), so a window boundary costs
       * no work per key beyond dropping the panes that closed.
       */
      readonly emit?: 'every-window' | 'on-change' | 'on-read';
      /**
       * `on-change` only: the aggregate also depends on which events fall in the window's last
       * `tailMs` (a multiple of slide), so windows where a pane leaves that tail are emitted too.
       */
      readonly tailMs?: number;
    }
  | { readonly kind: 'session'; readonly gap: number };

/**
 * An incremental aggregate. `add` and `merge` may mutate and return `acc` (the engine always
 * keeps the returned value), so per-event cost is O(1) in the window's size. `result` must
 * return a value that later `add`s do not change, because results escape to consumers.
 * `merge` is only needed by session windows, which merge when an event bridges two sessions.
 */
export interface Aggregator<V, A, R> {
  /**
   * Bounds of the window being created, for aggregates that depend on position within it (e.g.
   * "events in the window's last hour"). Sessions pass the first event's `[ts, ts + gap)`,
   * which later merges may widen.
   */
  create(start: number, end: number): A;
  add(acc: A, value: V, ts: number): A;
  merge(into: A, other: A): A;
  result(acc: A): R;
}

export interface WindowBounds {
  readonly start: number;
  readonly end: number;
}

/**
 * Why a window result was emitted:
 * - on_time: the watermark passed the window end; first result, no late data in it.
 * - late: the result includes events that arrived after the watermark passed the window end
 *   (an update of an earlier result, or the first result of a window only late events created).
 * - close: the watermark passed end + allowed lateness and nothing changed since the previous
 *   result; emitted only with `emitOnClose`, so consumers that need a "no more updates" marker get one.
 */
export type Firing = 'on_time' | 'late' | 'close';

export interface WindowResult<K, R> {
  readonly kind: 'window';
  readonly key: K;
  readonly start: number;
  readonly end: number;
  readonly agg: R;
  /** No result for this window will follow: its state is gone. */
  readonly final: boolean;
  readonly firing: Firing;
  /**
   * Session windows only: bounds of results emitted earlier that this one replaces, because a
   * late event extended a session or bridged two sessions. Consumers keyed by (key, start, end)
   * should delete those.
   */
  readonly retracts?: readonly WindowBounds[];
}

/** An event that arrived after every window it belongs to had closed: the side output. */
export interface LateEvent<K, V> {
  readonly kind: 'late';
  readonly key: K;
  readonly ts: number;
  readonly value: V;
  /** The watermark the event was judged against. */
  readonly watermark: number;
}

export type WindowOutput<K, V, R> = WindowResult<K, R> | LateEvent<K, V>;

export interface WindowEngineOptions<V, A, R> {
  readonly window: WindowSpec;
  readonly aggregator: Aggregator<V, A, R>;
  /** Watermark = max event time seen − this, when `advanceWatermark()` gets no explicit value. */
  readonly outOfOrdernessMs?: number;
  /** A window keeps accepting (and re-emitting) late events until watermark >= end + this. */
  readonly allowedLatenessMs?: number;
  /**
   * Emit a `close` result when a window's lateness period ends unchanged (default true).
   * Ignored by `on-change` hopping windows, which never emit close results.
   */
  readonly emitOnClose?: boolean;
}

export interface WindowEngineStats {
  readonly keys: number;
  /**
   * Windows holding state: not yet fired, or fired and still within allowed lateness. For
   * `on-change` hopping windows, the panes holding state.
   */
  readonly openWindows: number;
  /** Pending timer entries, including superseded ones not popped yet. */
  readonly timers: number;
  readonly watermark: number;
  readonly maxTimestamp: number;
  readonly eventsAccepted: number;
  /** Events sent to the late side output (every window they belong to had closed). */
  readonly lateEvents: number;
  /** Hopping only: window assignments skipped because that window had closed while another took the event. */
  readonly expiredAssignments: number;
  readonly resultsEmitted: number;
}

/** A read-only view of a live window, for point-in-time feature reads. */
export interface WindowSnapshot<R> {
  readonly start: number;
  readonly end: number;
  readonly agg: R;
  /** A result reflecting all of this window's current content has been emitted. */
  readonly fired: boolean;
}
