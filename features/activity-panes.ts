import type { ClickEvent } from '../models/event.js';
import type { WindowEngineStats, WindowSnapshot } from '../stream/windowing/types.js';
import type { Activity } from './activity.js';
import type { PaneSink } from './window-changelog-codec.js';
import { NONE, PaneRows, type PaneRecord } from './pane-rows.js';
import { grow, grownLength } from './pane-arrays.js';
import { SlotTimers } from './slot-timers.js';

export type { PaneRecord } from './pane-rows.js';

/** One key's window state in one family: what a changelog must carry to rebuild it. */
export interface KeyPanesRecord {
  /** The watermark the key's windows were last judged against (closed windows are final). */
  readonly firedTo: number;
  /** Newest first. */
  readonly panes: readonly PaneRecord[];
}

export interface ActivityPanesOptions {
  readonly sizeMs: number;
  readonly slideMs: number;
  /** The window's own trailing part counted as `recent` (trending velocity); 0: none. */
  readonly tailMs: number;
  readonly allowedLatenessMs: number;
  readonly precision: number;
  readonly exactLimit: number;
}

/**
 * Hopping activity windows of one feature family, read on demand (the `on-read` mode of
 * PaneWindows, specialised to the Activity aggregate and stored in PaneRows' typed arrays).
 *
 * Keys are slots of an EntityIndex (small integers), not strings. Each event updates one pane
 * of `slide` ms; a read merges the panes of the window asked for. A key's panes are a list,
 * newest first, from `head[slot]`. Memory bound: a key holds at most size/slide +
 * (lateness + out-of-orderness)/slide + 1 panes, each dropped once every window holding it is
 * past its allowed lateness (one timer per key), and the number of keys is the EntityIndex cap.
 */
export class ActivityPanes {
  private readonly size: number;
  private readonly slide: number;
  private readonly tail: number;
  private readonly lateness: number;
  private readonly rows: PaneRows;
  // per key slot
  private head = new Int32Array(0);
  private timerAt = new Float64Array(0);
  private firedTo = new Float64Array(0);
  private readonly timers = new SlotTimers();
  private wm = -Infinity;
  private maxTs = -Infinity;
  private keysWithPanes = 0;
  private accepted = 0;
  private late = 0;
  private expired = 0;

  constructor(o: ActivityPanesOptions) {
    this.size = o.sizeMs;
    this.slide = o.slideMs;
    this.tail = o.tailMs;
    this.lateness = o.allowedLatenessMs;
    this.rows = new PaneRows(o.precision, o.exactLimit);
    if (this.size % this.slide !== 0) throw new RangeError('size must be a multiple of slide');
  }

  get watermark(): number {
    return this.wm;
  }

  /** Adds an event of key `slot`; `h` is the hash of what the family counts distinct. */
  add(slot: number, ts: number, e: ClickEvent, h: number): boolean {
    if (!Number.isFinite(ts)) throw new RangeError(`event time must be a finite number, got ${ts}`);
    if (ts > this.maxTs) this.maxTs = ts;
    const { size, slide, lateness, wm } = this;
    const p = Math.floor(ts / slide) * slide;
    // The last window holding this pane ends at p + size; once that is closed, so are all.
    if (wm >= p + size + lateness) {
      this.late++;
      return false;
    }
    this.accepted++;
    this.ensureSlot(slot);
    if (wm > this.firedTo[slot]) this.firedTo[slot] = wm;
    this.rows.add(this.paneFor(slot, p), e, ts, h);
    const closedUpTo = wm - lateness;
    if (closedUpTo >= p + slide)
      this.expired += Math.floor((Math.min(closedUpTo, p + size) - p - slide) / slide) + 1;
    this.arm(slot, p + size + lateness);
    return true;
  }

  /** Moves the watermark and drops the panes that only closed windows hold. */
  advance(wm: number): void {
    if (wm > this.wm) this.wm = wm;
    const timers = this.timers;
    const w = this.wm;
    while (timers.size > 0 && timers.peekTime() <= w) {
      const time = timers.peekTime();
      const slot = timers.pop();
      if (this.timerAt[slot] !== time) continue;
      this.timerAt[slot] = NaN;
      this.evictClosed(slot, w);
      const oldest = this.oldest(slot);
      if (oldest !== NONE) this.arm(slot, this.rows.start[oldest] + this.size + this.lateness);
    }
  }

  /** The window containing `ts` that starts earliest and holds at least one pane. */
  query(slot: number, ts: number): WindowSnapshot<Activity> | undefined {
    if (slot >= this.head.length) return undefined;
    const { start: starts, next } = this.rows;
    const last = Math.floor(ts / this.slide) * this.slide;
    let best = Infinity;
    for (let q = this.head[slot]; q !== NONE; q = next[q]) {
      const p = starts[q];
      if (p > ts || p <= ts - this.size) continue;
      const s = Math.max(last - this.size + this.slide, p - this.size + this.slide);
      if (s < best) best = s;
    }
    return best === Infinity ? undefined : this.snapshot(slot, best + this.size);
  }

  /**
   * The windows a batch of the key's events in [from, to] changed and that a reader may hold:
   * each window that contains one of them and ends where one of the key's panes ends. Oldest
   * first. Closed windows are final and were read before they closed.
   */
  windowsAtPanes(slot: number, from: number, to: number): WindowSnapshot<Activity>[] {
    if (slot >= this.head.length) return [];
    const { start: starts, next } = this.rows;
    const lo = Math.floor(from / this.slide) * this.slide;
    const hi = Math.floor(to / this.slide) * this.slide + this.size - this.slide;
    const closedTo = this.firedTo[slot] - this.lateness - this.slide;
    const out: number[] = [];
    for (let q = this.head[slot]; q !== NONE; q = next[q]) {
      const p = starts[q];
      if (p >= lo && p <= hi && p > closedTo) out.push(p);
    }
    out.reverse(); // the list is newest first
    return out.map((p) => this.snapshot(slot, p + this.slide));
  }

  /** Drops every pane of the key (eviction, erasure); its timer entry is skipped when due. */
  removeSlot(slot: number): void {
    if (slot >= this.head.length) return;
    const q = this.head[slot];
    if (q !== NONE) {
      this.keysWithPanes--;
      this.releaseFrom(q);
    }
    this.head[slot] = NONE;
    this.timerAt[slot] = NaN;
    this.firedTo[slot] = -Infinity;
  }

  /** Right to erasure: drops the hash from every exact distinct count (sketches hold none). */
  forgetHash(h: number): void {
    this.rows.forgetHash(h);
  }

  /** The key's panes as plain data (newest first), or undefined when it holds none. */
  exportSlot(slot: number): KeyPanesRecord | undefined {
    if (slot >= this.head.length || this.head[slot] === NONE) return undefined;
    const panes: PaneRecord[] = [];
    for (let q = this.head[slot]; q !== NONE; q = this.rows.next[q])
      panes.push(this.rows.record(q));
    return { firedTo: this.firedTo[slot], panes };
  }

  /** As `exportSlot`, into a changelog record under `label`; false when the key holds none. */
  writeSlot(slot: number, label: string, w: PaneSink): boolean {
    if (slot >= this.head.length || this.head[slot] === NONE) return false;
    w.family(label, this.firedTo[slot]);
    for (let q = this.head[slot]; q !== NONE; q = this.rows.next[q]) this.rows.writeTo(q, w);
    return true;
  }

  /** Replaces the key's panes with a record from `exportSlot` (a restore). */
  importSlot(slot: number, rec: KeyPanesRecord): void {
    this.removeSlot(slot);
    this.ensureSlot(slot);
    this.firedTo[slot] = rec.firedTo;
    for (const r of rec.panes) {
      this.rows.load(this.paneFor(slot, r.start), r);
      this.arm(slot, r.start + this.size + this.lateness);
    }
  }

  stats(): WindowEngineStats {
    return {
      keys: this.keysWithPanes,
      openWindows: this.rows.live,
      timers: this.timers.size,
      watermark: this.wm,
      maxTimestamp: this.maxTs,
      eventsAccepted: this.accepted,
      lateEvents: this.late,
      expiredAssignments: this.expired,
      resultsEmitted: 0,
    };
  }

  private snapshot(slot: number, end: number): WindowSnapshot<Activity> {
    const start = end - this.size;
    const recentFrom = this.tail > 0 ? end - this.tail : Infinity;
    const agg = this.rows.merge(this.head[slot], start, end, recentFrom);
    return { start, end, agg, fired: end <= this.firedTo[slot] };
  }

  /** One valid timer per key, at its oldest pane's eviction time. */
  private arm(slot: number, at: number): void {
    if (this.timerAt[slot] <= at) return; // NaN compares false: no timer yet
    this.timerAt[slot] = at;
    this.timers.push(at, slot);
  }

  /** The key's pane starting at p, created in its place in the newest-first list. */
  private paneFor(slot: number, p: number): number {
    const { start: starts, next } = this.rows;
    let prev = NONE;
    let cur = this.head[slot];
    while (cur !== NONE && starts[cur] > p) {
      prev = cur;
      cur = next[cur];
    }
    if (cur !== NONE && starts[cur] === p) return cur;
    const q = this.rows.alloc(p);
    this.rows.next[q] = cur;
    if (prev !== NONE) this.rows.next[prev] = q;
    else {
      if (this.head[slot] === NONE) this.keysWithPanes++;
      this.head[slot] = q;
    }
    return q;
  }

  private oldest(slot: number): number {
    let q = this.head[slot];
    if (q === NONE) return NONE;
    while (this.rows.next[q] !== NONE) q = this.rows.next[q];
    return q;
  }

  private evictClosed(slot: number, wm: number): void {
    if (wm > this.firedTo[slot]) this.firedTo[slot] = wm;
    const gone = wm - this.size - this.lateness; // panes starting at or before this are closed
    const { start: starts, next } = this.rows;
    let prev = NONE;
    let q = this.head[slot];
    while (q !== NONE && starts[q] > gone) {
      prev = q;
      q = next[q];
    }
    if (q === NONE) return;
    if (prev === NONE) {
      this.head[slot] = NONE;
      this.keysWithPanes--;
    } else next[prev] = NONE;
    this.releaseFrom(q);
  }

  private releaseFrom(q: number): void {
    while (q !== NONE) {
      const n = this.rows.next[q];
      this.rows.release(q);
      q = n;
    }
  }

  private ensureSlot(slot: number): void {
    if (slot < this.head.length) return;
    let n = this.head.length;
    while (n <= slot) n = grownLength(n);
    const old = this.head.length;
    this.head = grow(this.head, new Int32Array(n));
    this.head.fill(NONE, old);
    this.timerAt = grow(this.timerAt, new Float64Array(n));
    this.timerAt.fill(NaN, old);
    this.firedTo = grow(this.firedTo, new Float64Array(n));
    this.firedTo.fill(-Infinity, old);
  }
}
