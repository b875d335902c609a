import { TimerHeap } from './timer-heap.js';
import type { Aggregator, Firing, WindowOutput, WindowSnapshot } from './types.js';

interface KeyPanes<K, A> {
  readonly key: K;
  /** Pane start → aggregate of the events in [start, start + slide). */
  readonly panes: Map<number, A>;
  /** Window ends where the content changes and that are not processed yet; ascending, unique. */
  changeEnds: number[];
  /**
   * Every window end <= this has been processed (emitted, or skipped as unchanged). An advance
   * to watermark W processes all ends <= W of every key, popped or not, so the effective value
   * is max(firedTo, last watermark); `add` folds that in before using it.
   */
  firedTo: number;
  /** Processed window ends a late event changed, to emit again (NaN: none). */
  dirtyLo: number;
  dirtyHi: number;
  timerAt: number;
  alive: boolean;
}

/**
 * Hopping windows as panes, emitting on change (WindowSpec `emit: 'on-change'`).
 *
 * Each event updates one pane of `slide` ms instead of size/slide overlapping windows, and a
 * window is computed (by merging its panes) only where its content differs from the window
 * one slide earlier: where a pane enters (end = pane end), where it leaves (end = pane start +
 * size + slide, often an empty window: the "back to zero" result), and where it leaves the
 * window's tail if the aggregate depends on one (`tailMs`). A consumer that takes, for any end,
 * the latest result at or before it sees exactly the per-window results. A sparse key thus
 * costs one pane and two or three results instead of size/slide windows and results.
 *
 * Late events: a pane update re-emits the processed windows it changed that are not closed
 * (end + lateness > watermark), labelled `late`. Close results are never emitted in this mode:
 * `final` marks results emitted after the window's lateness had already run out.
 */
export class PaneWindows<K, V, A, R> {
  private readonly keys = new Map<K, KeyPanes<K, A>>();
  private readonly timers = new TimerHeap<KeyPanes<K, A>>();
  private paneCount = 0;
  expired = 0;
  emitted = 0;

  constructor(
    private readonly size: number,
    private readonly slide: number,
    private readonly offset: number,
    private readonly tail: number,
    private readonly lateness: number,
    private readonly agg: Aggregator<V, A, R>,
    /** False (`on-read`): results are only read with `query`; advancing just drops closed panes. */
    private readonly emitting = true,
  ) {
    if (size % slide !== 0)
      throw new RangeError('on-change hopping windows need size to be a multiple of slide');
    if (tail !== 0 && (tail % slide !== 0 || tail >= size)) {
      throw new RangeError('tailMs must be a multiple of slide and shorter than size');
    }
  }

  get panesOpen(): number {
    return this.paneCount;
  }

  get keyCount(): number {
    return this.keys.size;
  }

  get timerCount(): number {
    return this.timers.size;
  }

  add(key: K, ts: number, value: V, wm: number): boolean {
    const { size, slide, lateness } = this;
    const p = Math.floor((ts - this.offset) / slide) * slide + this.offset;
    // The last window holding this pane ends at p + size; once that is closed, so are all.
    if (wm >= p + size + lateness) return false;
    let ks = this.keys.get(key);
    if (ks === undefined) {
      ks = {
        key,
        panes: new Map(),
        changeEnds: [],
        firedTo: -Infinity,
        dirtyLo: NaN,
        dirtyHi: NaN,
        timerAt: NaN,
        alive: true,
      };
      this.keys.set(key, ks);
    }
    if (wm > ks.firedTo) ks.firedTo = wm;
    let acc = ks.panes.get(p);
    const fresh = acc === undefined;
    if (acc === undefined) {
      acc = this.agg.create(p, p + slide);
      this.paneCount++;
    }
    ks.panes.set(p, this.agg.add(acc, value, ts));

    const closedUpTo = wm - lateness; // windows ending at or before this are closed
    if (closedUpTo >= p + slide)
      this.expired += Math.floor((Math.min(closedUpTo, p + size) - p - slide) / slide) + 1;
    if (!this.emitting) {
      // Only eviction is timed, and the earliest pane leaves first: O(1) per event.
      const evictAt = p + size + lateness;
      if (!(ks.timerAt <= evictAt)) {
        ks.timerAt = evictAt;
        this.timers.push(evictAt, ks);
      }
      return true;
    }
    if (fresh) {
      this.addChangeEnd(ks, p + slide);
      if (this.tail > 0) this.addChangeEnd(ks, p + this.tail + slide);
      this.addChangeEnd(ks, p + size + slide);
    }
    // Processed windows (end <= watermark) this pane belongs to, plus the one after (its
    // predecessor changed, so "same as the previous window" no longer holds for it), unless
    // closed: those are final and must not see this event.
    if (ks.firedTo >= p + slide) {
      // The first unprocessed window holding this pane differs from its predecessor if that
      // one is closed (it never sees this event): it must be emitted, not skipped as equal.
      const next = this.firstEndAfter(ks.firedTo);
      if (next <= p + size) this.addChangeEnd(ks, next);
      const firstOpen = Math.max(p + slide, this.firstEndAfter(closedUpTo));
      const last = Math.min(p + size + slide, ks.firedTo);
      if (firstOpen <= last) {
        ks.dirtyLo = ks.dirtyLo === ks.dirtyLo ? Math.min(ks.dirtyLo, firstOpen) : firstOpen;
        ks.dirtyHi = ks.dirtyHi === ks.dirtyHi ? Math.max(ks.dirtyHi, last) : last;
      }
    }
    this.schedule(ks);
    return true;
  }

  /** Appends due results to `out`, sorted by window end (stable across keys). */
  advance(wm: number, out: WindowOutput<K, V, R>[]): void {
    const results: WindowOutput<K, V, R>[] = [];
    const timers = this.timers;
    while (timers.size > 0 && timers.peekTime() <= wm) {
      const time = timers.peekTime();
      const ks = timers.pop();
      if (!ks.alive || ks.timerAt !== time) continue;
      ks.timerAt = NaN;
      this.process(ks, wm, results);
      if (ks.alive) this.schedule(ks);
    }
    results.sort((a, b) => (a.kind === 'window' && b.kind === 'window' ? a.end - b.end : 0));
    for (const r of results) out.push(r);
  }

  hasKey(key: K): boolean {
    return this.keys.has(key);
  }

  hasWindowAt(key: K, start: number): boolean {
    const ks = this.keys.get(key);
    if (ks === undefined) return false;
    for (const p of ks.panes.keys()) if (p >= start && p < start + this.size) return true;
    return false;
  }

  /** The window containing `ts` that starts earliest and holds at least one pane. */
  query(key: K, ts: number): WindowSnapshot<R> | undefined {
    const ks = this.keys.get(key);
    if (ks === undefined) return undefined;
    const last = Math.floor((ts - this.offset) / this.slide) * this.slide + this.offset;
    let best = Infinity;
    for (const p of ks.panes.keys()) {
      // Earliest window containing both ts and pane p.
      if (p > ts || p <= ts - this.size) continue;
      const s = Math.max(last - this.size + this.slide, p - this.size + this.slide);
      if (s < best) best = s;
    }
    return best === Infinity ? undefined : this.snapshot(ks, best + this.size);
  }

  /**
   * For `on-read` consumers: the windows a batch of `key`'s events in [from, to] changed and that
   * a reader may hold, i.e. each window that contains one of them and ends where one of the
   * key's panes ends (the window that was current while that pane was the newest). Oldest first.
   */
  windowsAtPanes(key: K, from: number, to: number): WindowSnapshot<R>[] {
    const ks = this.keys.get(key);
    if (ks === undefined) return [];
    const lo = Math.floor((from - this.offset) / this.slide) * this.slide + this.offset;
    const hi =
      Math.floor((to - this.offset) / this.slide) * this.slide +
      this.offset +
      this.size -
      this.slide;
    const starts: number[] = [];
    // A pane may outlive its own window (it also sits in later, open ones): closed windows are
    // final and were read before they closed.
    const closedTo = ks.firedTo - this.lateness - this.slide;
    for (const p of ks.panes.keys()) if (p >= lo && p <= hi && p > closedTo) starts.push(p);
    if (starts.length > 1) starts.sort((a, b) => a - b);
    return starts.map((p) => this.snapshot(ks, p + this.slide));
  }

  latest(key: K): WindowSnapshot<R> | undefined {
    const ks = this.keys.get(key);
    if (ks === undefined || ks.panes.size === 0) return undefined;
    let maxP = -Infinity;
    for (const p of ks.panes.keys()) if (p > maxP) maxP = p;
    return this.snapshot(ks, maxP + this.size);
  }

  windowsOf(key: K): WindowSnapshot<R>[] {
    const ks = this.keys.get(key);
    if (ks === undefined || ks.panes.size === 0) return [];
    let minP = Infinity;
    let maxP = -Infinity;
    for (const p of ks.panes.keys()) {
      if (p < minP) minP = p;
      if (p > maxP) maxP = p;
    }
    const out: WindowSnapshot<R>[] = [];
    for (let end = minP + this.slide; end <= maxP + this.size; end += this.slide) {
      if (this.hasWindowAt(key, end - this.size)) out.push(this.snapshot(ks, end));
    }
    return out;
  }

  private process(ks: KeyPanes<K, A>, wm: number, out: WindowOutput<K, V, R>[]): void {
    if (!this.emitting) {
      this.evictClosed(ks, wm);
      return;
    }
    if (ks.dirtyLo === ks.dirtyLo) {
      for (let end = ks.dirtyLo; end <= ks.dirtyHi; end += this.slide)
        this.emit(ks, end, wm, 'late', out);
      ks.dirtyLo = ks.dirtyHi = NaN;
    }
    const ends = ks.changeEnds;
    let i = 0;
    while (i < ends.length && ends[i] <= wm) {
      const end = ends[i++];
      this.emit(ks, end, wm, 'on_time', out);
    }
    if (i > 0) ends.splice(0, i);
    this.evictClosed(ks, wm);
  }

  /** Visits every open pane's aggregate (right to erasure: values inside other keys' state). */
  forEachAggregate(fn: (acc: A) => void): void {
    for (const ks of this.keys.values()) for (const acc of ks.panes.values()) fn(acc);
  }

  /** Drops every pane of `key` at once (right to erasure); its timer entry is skipped. */
  removeKey(key: K): boolean {
    const ks = this.keys.get(key);
    if (ks === undefined) return false;
    this.paneCount -= ks.panes.size;
    ks.panes.clear();
    ks.changeEnds.length = 0;
    ks.alive = false;
    this.keys.delete(key);
    return true;
  }

  /** Drops the panes that only closed windows hold, and the key once nothing is left. */
  private evictClosed(ks: KeyPanes<K, A>, wm: number): void {
    if (wm > ks.firedTo) ks.firedTo = wm;
    const gone = wm - this.size - this.lateness; // panes starting at or before this are in closed windows only
    for (const p of ks.panes.keys()) {
      if (p <= gone) {
        ks.panes.delete(p);
        this.paneCount--;
      }
    }
    if (ks.panes.size === 0 && ks.changeEnds.length === 0) {
      ks.alive = false;
      this.keys.delete(ks.key);
    }
  }

  private emit(
    ks: KeyPanes<K, A>,
    end: number,
    wm: number,
    firing: Firing,
    out: WindowOutput<K, V, R>[],
  ): void {
    const start = end - this.size;
    out.push({
      kind: 'window',
      key: ks.key,
      start,
      end,
      agg: this.merged(ks, start, end),
      final: wm >= end + this.lateness,
      firing,
    });
    this.emitted++;
  }

  private merged(ks: KeyPanes<K, A>, start: number, end: number): R {
    let acc = this.agg.create(start, end);
    for (const [p, pane] of ks.panes) if (p >= start && p < end) acc = this.agg.merge(acc, pane);
    return this.agg.result(acc);
  }

  private snapshot(ks: KeyPanes<K, A>, end: number): WindowSnapshot<R> {
    const start = end - this.size;
    return { start, end, agg: this.merged(ks, start, end), fired: end <= ks.firedTo };
  }

  private addChangeEnd(ks: KeyPanes<K, A>, end: number): void {
    if (end <= ks.firedTo) return; // processed already; late re-emission covers it
    const ends = ks.changeEnds;
    let i = ends.length;
    while (i > 0 && ends[i - 1] > end) i--;
    if (i > 0 && ends[i - 1] === end) return;
    ends.splice(i, 0, end);
  }

  /** Smallest window end strictly greater than t. */
  private firstEndAfter(t: number): number {
    const k = Math.floor((t - this.offset) / this.slide) * this.slide + this.offset;
    return k + this.slide;
  }

  /** One valid timer per key at its earliest due time; re-armed when popped early. */
  private schedule(ks: KeyPanes<K, A>): void {
    if (!this.emitting) {
      let due = Infinity;
      for (const p of ks.panes.keys())
        if (p + this.size + this.lateness < due) due = p + this.size + this.lateness;
      if (due === Infinity || ks.timerAt <= due) return;
      ks.timerAt = due;
      this.timers.push(due, ks);
      return;
    }
    let due =
      ks.dirtyLo === ks.dirtyLo
        ? -Infinity
        : ks.changeEnds.length > 0
          ? ks.changeEnds[0]
          : Infinity;
    if (due !== -Infinity) {
      for (const p of ks.panes.keys()) {
        const evictAt = p + this.size + this.lateness;
        if (evictAt < due) due = evictAt;
      }
    }
    if (due === Infinity) return;
    if (ks.timerAt <= due) return; // NaN compares false: no timer yet
    ks.timerAt = due;
    this.timers.push(due, ks);
  }
}
