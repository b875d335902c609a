import { PaneWindows } from './pane-windows.js';
import { mergeSessions, touchedSessions } from './session-merge.js';
import { TimerHeap } from './timer-heap.js';
import {
  byStart,
  emitWin,
  latestStart,
  newWin,
  removeWin,
  nonNegative,
  positive,
  snapshotOf,
  type KeyState,
  type Win,
} from './window-state.js';
import type {
  Aggregator,
  Firing,
  LateEvent,
  WindowEngineOptions,
  WindowEngineStats,
  WindowOutput,
  WindowSnapshot,
  WindowSpec,
} from './types.js';

/**
 * Keyed event-time windows (tumbling, hopping, session) with watermarks, allowed lateness and a
 * late side output, in the Flink sense:
 * - the watermark W is a promise that no more events with ts < W are expected; it only moves
 *   forward and only when `advanceWatermark` is called (per event or per batch; events of one
 *   batch are judged against the watermark of the previous call, like periodic watermarks);
 * - a window `[start, end)` fires once W >= end, is updated and re-fired by late events until
 *   W >= end + allowedLateness, then its state is dropped;
 * - an event whose windows have all been dropped goes to the late output, never silently away.
 * Each event costs O(windows it belongs to) aggregate updates; timers live in one heap so a
 * watermark advance touches only the windows that are due.
 */
export class WindowEngine<K, V, A, R> {
  private readonly spec: WindowSpec;
  private readonly agg: Aggregator<V, A, R>;
  private readonly size: number;
  private readonly slide: number;
  private readonly offset: number;
  private readonly gap: number;
  private readonly lateness: number;
  private readonly outOfOrderness: number;
  private readonly emitOnClose: boolean;

  /** Set for `on-change` hopping windows, which live in panes instead of per-window state. */
  private readonly panes: PaneWindows<K, V, A, R> | null = null;
  private readonly keys = new Map<K, KeyState<K, A>>();
  private readonly timers = new TimerHeap<Win<K, A>>();
  private pending: WindowOutput<K, V, R>[] = [];
  private wm = -Infinity;
  private maxTs = -Infinity;
  private open = 0;
  private accepted = 0;
  private late = 0;
  private expired = 0;
  private emittedCount = 0;

  constructor(options: WindowEngineOptions<V, A, R>) {
    const spec = options.window;
    this.spec = spec;
    this.agg = options.aggregator;
    this.lateness = nonNegative(options.allowedLatenessMs ?? 0, 'allowedLatenessMs');
    this.outOfOrderness = nonNegative(options.outOfOrdernessMs ?? 0, 'outOfOrdernessMs');
    this.emitOnClose = options.emitOnClose ?? true;
    if (spec.kind === 'session') {
      this.gap = positive(spec.gap, 'gap');
      this.size = this.slide = this.offset = 0;
    } else {
      this.gap = 0;
      this.size = positive(spec.size, 'size');
      this.slide = spec.kind === 'hopping' ? positive(spec.slide, 'slide') : this.size;
      // A slide longer than the size would leave gaps whose events belong to no window at all.
      if (this.slide > this.size) throw new RangeError('window slide must not exceed its size');
      this.offset = spec.offset ?? 0;
      if (spec.kind === 'hopping' && (spec.emit === 'on-change' || spec.emit === 'on-read')) {
        const tail = spec.tailMs ?? 0;
        this.panes = new PaneWindows(
          this.size,
          this.slide,
          this.offset,
          tail,
          this.lateness,
          this.agg,
          spec.emit === 'on-change',
        );
      }
    }
  }

  get watermark(): number {
    return this.wm;
  }

  get maxTimestamp(): number {
    return this.maxTs;
  }

  get window(): WindowSpec {
    return this.spec;
  }

  /**
   * Adds one event to every window of `key` it belongs to. Returns false when it was too late
   * for all of them; it is then queued as a `late` output for the next `advanceWatermark`.
   */
  add(key: K, ts: number, value: V): boolean {
    if (!Number.isFinite(ts)) throw new RangeError(`event time must be a finite number, got ${ts}`);
    if (ts > this.maxTs) this.maxTs = ts;
    const ok =
      this.panes !== null
        ? this.panes.add(key, ts, value, this.wm)
        : this.spec.kind === 'session'
          ? this.addSession(key, ts, value)
          : this.addAligned(key, ts, value);
    if (ok) this.accepted++;
    else {
      this.late++;
      const late: LateEvent<K, V> = { kind: 'late', key, ts, value, watermark: this.wm };
      this.pending.push(late);
    }
    return ok;
  }

  /**
   * Moves the watermark to `watermark` (default: max event time − out-of-orderness; never
   * backwards) and returns, in order: late events queued since the last call, then window
   * results in timer order (window end, then creation order).
   */
  advanceWatermark(watermark?: number): WindowOutput<K, V, R>[] {
    const target = watermark ?? this.maxTs - this.outOfOrderness;
    if (target > this.wm) this.wm = target;
    const out = this.pending;
    this.pending = [];
    const wm = this.wm;
    if (this.panes !== null) {
      this.panes.advance(wm, out);
      return out;
    }
    const timers = this.timers;
    while (timers.size > 0 && timers.peekTime() <= wm) {
      const time = timers.peekTime();
      const win = timers.pop();
      if (!win.alive || win.timerAt !== time) continue;
      win.timerAt = NaN;
      const due = this.dueTime(win);
      // The window moved on since this timer was set (a session grew): wait for the new time.
      if (due > wm) {
        this.schedule(win);
        continue;
      }
      const closing = wm >= win.end + this.lateness;
      if (!win.fired) {
        const updated =
          win.emittedStart === win.emittedStart || win.absorbed !== null || win.hasLate;
        this.emit(out, win, closing, updated ? 'late' : 'on_time');
        if (closing) this.evict(win);
        else {
          win.fired = true;
          this.schedule(win);
        }
      } else {
        if (this.emitOnClose) this.emit(out, win, true, 'close');
        this.evict(win);
      }
    }
    return out;
  }

  /** End of a bounded input: fires and closes every window, like Flink's final MAX_WATERMARK. */
  flush(): WindowOutput<K, V, R>[] {
    return this.advanceWatermark(Infinity);
  }

  /** Whether `key` has any live window. */
  hasKey(key: K): boolean {
    if (this.panes !== null) return this.panes.hasKey(key);
    return this.keys.has(key);
  }

  /** Whether `key` has a live window starting at `start` (tumbling and hopping). */
  hasWindowAt(key: K, start: number): boolean {
    if (this.panes !== null) return this.panes.hasWindowAt(key, start);
    const ks = this.keys.get(key);
    if (ks === undefined) return false;
    return Array.isArray(ks) ? ks.some((w) => w.start === start) : ks.has(start);
  }

  /** Live windows of `key`, oldest start first. */
  windowsOf(key: K): WindowSnapshot<R>[] {
    if (this.panes !== null) return this.panes.windowsOf(key);
    const ks = this.keys.get(key);
    return ks === undefined ? [] : byStart(ks).map((w) => this.snapshot(w));
  }

  /**
   * The live window of `key` containing `ts` that starts earliest, i.e. for hopping windows the
   * one covering the most history up to `ts` ("the last <size>" to within one slide).
   */
  query(key: K, ts: number): WindowSnapshot<R> | undefined {
    if (this.panes !== null) return this.panes.query(key, ts);
    const ks = this.keys.get(key);
    if (ks === undefined) return undefined;
    if (Array.isArray(ks)) {
      for (const w of ks) if (w.start <= ts && ts < w.end) return this.snapshot(w);
      return undefined;
    }
    const first = this.lastStartFor(ts) - Math.ceil(this.size / this.slide - 1) * this.slide;
    for (let s = first; s <= ts; s += this.slide) {
      if (s + this.size <= ts) continue;
      const w = ks.get(s);
      if (w !== undefined) return this.snapshot(w);
    }
    return undefined;
  }

  /** `on-read` hopping windows: see PaneWindows.windowsAtPanes. */
  windowsAtPanes(key: K, from: number, to: number): WindowSnapshot<R>[] {
    if (this.panes === null) throw new Error('windowsAtPanes needs pane-based hopping windows');
    return this.panes.windowsAtPanes(key, from, to);
  }

  /** Most recent live session (or latest-starting window) of `key`. */
  latest(key: K): WindowSnapshot<R> | undefined {
    if (this.panes !== null) return this.panes.latest(key);
    const ks = this.keys.get(key);
    const best = ks === undefined ? undefined : latestStart(ks);
    return best === undefined ? undefined : this.snapshot(best);
  }

  stats(): WindowEngineStats {
    const p = this.panes;
    return {
      keys: p !== null ? p.keyCount : this.keys.size,
      openWindows: p !== null ? p.panesOpen : this.open,
      timers: p !== null ? p.timerCount : this.timers.size,
      watermark: this.wm,
      maxTimestamp: this.maxTs,
      eventsAccepted: this.accepted,
      lateEvents: this.late,
      expiredAssignments: p !== null ? p.expired : this.expired,
      resultsEmitted: p !== null ? p.emitted : this.emittedCount,
    };
  }

  private addAligned(key: K, ts: number, value: V): boolean {
    const wm = this.wm;
    const size = this.size;
    const closedBefore = wm - this.lateness; // windows with end <= this are gone
    let ks = this.keys.get(key) as Map<number, Win<K, A>> | undefined;
    let took = false;
    let skipped = 0;
    for (let s = this.lastStartFor(ts); s > ts - size; s -= this.slide) {
      const end = s + size;
      if (end <= closedBefore) {
        skipped++;
        continue;
      }
      if (ks === undefined) {
        ks = new Map();
        this.keys.set(key, ks);
      }
      let w = ks.get(s);
      if (w === undefined) {
        w = this.newWindow(key, s, end);
        ks.set(s, w);
        this.schedule(w);
      }
      w.acc = this.agg.add(w.acc, value, ts);
      if (wm >= end) {
        w.hasLate = true;
        if (w.fired) {
          w.fired = false;
          this.schedule(w);
        }
      }
      took = true;
    }
    if (took) this.expired += skipped;
    return took;
  }

  private addSession(key: K, ts: number, value: V): boolean {
    const wm = this.wm;
    let sessions = this.keys.get(key) as Win<K, A>[] | undefined;
    const { first, last, lo, hi } = touchedSessions(sessions, ts, ts + this.gap);
    // Live sessions all end after wm − lateness, so only an unmerged new session can be too late.
    if (first < 0 && hi + this.lateness <= wm) return false;
    let w: Win<K, A>;
    if (first < 0) {
      w = this.newWindow(key, lo, hi);
      // A literal of one: an array grown by splice reserves 17 slots, per key.
      if (sessions === undefined) this.keys.set(key, [w]);
      else {
        let at = sessions.length;
        while (at > 0 && sessions[at - 1].start > lo) at--;
        sessions.splice(at, 0, w);
      }
    } else {
      // first >= 0: the key has sessions
      sessions = sessions as Win<K, A>[];
      w = mergeSessions(sessions, first, last, this.agg);
      this.open -= last - first;
      w.start = lo;
      w.end = hi;
    }
    w.acc = this.agg.add(w.acc, value, ts);
    if (wm >= w.end) w.hasLate = true;
    w.fired = false;
    this.schedule(w);
    return true;
  }

  private newWindow(key: K, start: number, end: number): Win<K, A> {
    const w = newWin(key, start, end, this.agg.create(start, end));
    this.open++;
    return w;
  }

  /** Start of the latest aligned window containing ts. */
  private lastStartFor(ts: number): number {
    return Math.floor((ts - this.offset) / this.slide) * this.slide + this.offset;
  }

  private dueTime(w: Win<K, A>): number {
    return w.fired ? w.end + this.lateness : w.end;
  }

  /**
   * Keeps at most one valid timer per window. A later due time (a session grew) reuses the
   * existing timer, which re-arms itself when it pops early; only an earlier one needs a push.
   */
  private schedule(w: Win<K, A>): void {
    const due = this.dueTime(w);
    if (w.timerAt <= due) return; // NaN compares false: no timer yet
    w.timerAt = due;
    this.timers.push(due, w);
  }

  private emit(out: WindowOutput<K, V, R>[], w: Win<K, A>, final: boolean, firing: Firing): void {
    out.push(emitWin(this.agg, w, final, firing));
    this.emittedCount++;
  }

  /** Visits every open window's (or pane's) aggregate (right to erasure). */
  forEachAggregate(fn: (acc: A) => void): void {
    if (this.panes) return this.panes.forEachAggregate(fn);
    for (const ks of this.keys.values()) for (const w of ks.values()) fn(w.acc);
  }

  /** Drops every window of `key` at once (right to erasure); their timers are skipped. */
  removeKey(key: K): boolean {
    if (this.panes) return this.panes.removeKey(key);
    const ks = this.keys.get(key);
    if (ks === undefined) return false;
    for (const w of ks.values()) {
      w.alive = false;
      this.open--;
    }
    this.keys.delete(key);
    return true;
  }

  private evict(w: Win<K, A>): void {
    w.alive = false;
    this.open--;
    const ks = this.keys.get(w.key);
    if (ks !== undefined && removeWin(ks, w)) this.keys.delete(w.key);
  }

  private snapshot(w: Win<K, A>): WindowSnapshot<R> {
    return snapshotOf(this.agg, w);
  }
}
