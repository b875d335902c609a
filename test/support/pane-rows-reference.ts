/**
 * PaneRows as it was before issue 12 packed it (every field a Float64 or Int32 column per pane):
 * the reference the packed layout must read back identically to (test/unit/pane-rows.test.ts).
 */
import { EVENT_TYPES, type ClickEvent, type EventType } from '../../models/event.js';
import { TYPE_CODE } from '../../models/core/weights.js';
import type { Activity } from '../../features/activity.js';
import { HashDistinct } from '../../features/hash-distinct.js';
import type { PaneSink } from '../../features/window-changelog-codec.js';
import type { PaneRecord } from '../../features/pane-rows.js';

export type { PaneRecord };

const TYPES = EVENT_TYPES.length;
/** Distinct hashes kept inside a pane's row; a pane with more moves them to a HashDistinct. */
const INLINE = 4;
export const NONE = -1;
/** pHashN value of a pane whose distinct values live in `overflow`. */
const SPILLED = -1;

/**
 * The panes of one family, column-wise: a pane is a row index into typed arrays (start, counts
 * by type, units, revenue, first and last event time, next pane of the same key, up to 4
 * distinct hashes), about 110 bytes and no object; a pane with more distinct values than fit
 * keeps them in a HashDistinct (`overflow`). Freed rows are reused (free list through `next`).
 * Bound: the live panes of the family's keys; the arrays grow (by doubling, then by a quarter beyond 65,536 panes) and never shrink.
 */
export class ReferencePaneRows {
  start = new Float64Array(0);
  next = new Int32Array(0);
  private first = new Float64Array(0);
  private last = new Float64Array(0);
  private units = new Float64Array(0);
  private revenue = new Float64Array(0);
  private counts = new Int32Array(0);
  private hashN = new Int8Array(0);
  private hashes = new Int32Array(0);
  /** Panes with more distinct values than fit inline. Bound: one per live pane. */
  private readonly overflow = new Map<number, HashDistinct>();
  /** merge()'s counter, reset per call (only its estimate leaves merge) */
  private readonly scratch: HashDistinct;
  private readonly inline: number;
  private free = NONE;
  private top = 0;
  live = 0;

  constructor(
    private readonly precision: number,
    private readonly exactLimit: number,
  ) {
    this.inline = Math.max(0, Math.min(INLINE, exactLimit));
    this.scratch = new HashDistinct(precision, exactLimit);
  }

  alloc(start: number): number {
    let q = this.free;
    if (q !== NONE) this.free = this.next[q];
    else {
      if (this.top === this.start.length) this.grow();
      q = this.top++;
    }
    this.start[q] = start;
    this.first[q] = Infinity;
    this.last[q] = -Infinity;
    this.units[q] = 0;
    this.revenue[q] = 0;
    this.counts.fill(0, q * TYPES, (q + 1) * TYPES);
    this.hashN[q] = 0;
    this.next[q] = NONE;
    this.live++;
    return q;
  }

  release(q: number): void {
    if (this.hashN[q] === SPILLED) this.overflow.delete(q);
    this.hashN[q] = 0;
    this.start[q] = NaN;
    this.next[q] = this.free;
    this.free = q;
    this.live--;
  }

  /** Counts one event into pane q; `h` is the hash of what the family counts distinct. */
  add(q: number, e: ClickEvent, ts: number, h: number): void {
    this.counts[q * TYPES + TYPE_CODE[e.type]]++;
    if (e.type === 'purchase') {
      const n = e.quantity ?? 1;
      this.units[q] += n;
      if (e.price !== undefined) this.revenue[q] += e.price * n;
    }
    if (ts < this.first[q]) this.first[q] = ts;
    if (ts > this.last[q]) this.last[q] = ts;
    this.addHash(q, h);
  }

  /** Right to erasure: drops the hash from every exact distinct count (sketches hold none). */
  forgetHash(h: number): void {
    const n = this.inline;
    for (let q = 0; q < this.top; q++) {
      const k = this.hashN[q];
      if (k === SPILLED) {
        this.overflow.get(q)?.forget(h);
        continue;
      }
      for (let i = 0; i < k; i++) {
        if (this.hashes[q * n + i] !== h) continue;
        this.hashes[q * n + i] = this.hashes[q * n + k - 1];
        this.hashN[q] = k - 1;
        break;
      }
    }
  }

  /** Pane q into a changelog record, as `record` would give it, without building it. */
  writeTo(q: number, w: PaneSink): void {
    const k = this.hashN[q];
    const spilled = k === SPILLED ? this.overflow.get(q) : undefined;
    const sketch = spilled?.sketch;
    const { start, units, revenue, first, last } = this;
    w.pane(
      start[q],
      units[q],
      revenue[q],
      first[q],
      last[q],
      this.counts,
      q * TYPES,
      TYPES,
      sketch,
    );
    if (sketch) return;
    if (spilled !== undefined) spilled.forEachExact((h) => w.hash(h));
    else for (let i = 0; i < k; i++) w.hash(this.hashes[q * this.inline + i]);
  }

  /** Pane q as plain data. */
  record(q: number): PaneRecord {
    const k = this.hashN[q];
    const spilled = k === SPILLED ? this.overflow.get(q) : undefined;
    const hashes: number[] = [];
    if (spilled !== undefined) spilled.forEachExact((h) => hashes.push(h));
    else for (let i = 0; i < k; i++) hashes.push(this.hashes[q * this.inline + i]);
    const sketch = spilled?.sketch;
    return {
      start: this.start[q],
      counts: Array.from(this.counts.subarray(q * TYPES, (q + 1) * TYPES)),
      units: this.units[q],
      revenue: this.revenue[q],
      firstTs: this.first[q],
      lastTs: this.last[q],
      ...(sketch ? { sketch: sketch.slice() } : { hashes }),
    };
  }

  /** Overwrites pane q (allocated for r.start) with a record. */
  load(q: number, r: PaneRecord): void {
    for (let i = 0; i < TYPES; i++) this.counts[q * TYPES + i] = r.counts[i] ?? 0;
    this.units[q] = r.units;
    this.revenue[q] = r.revenue;
    this.first[q] = r.firstTs;
    this.last[q] = r.lastTs;
    if (r.sketch) {
      const d = new HashDistinct(this.precision, this.exactLimit);
      d.setSketch(r.sketch.slice());
      this.overflow.set(q, d);
      this.hashN[q] = SPILLED;
    } else for (const h of r.hashes ?? []) this.addHash(q, h);
  }

  /**
   * The Activity of the panes of the list starting at `head` whose start is in [start, end);
   * panes starting at or after `recentFrom` count as the window's recent tail.
   */
  merge(head: number, start: number, end: number, recentFrom: number): Activity {
    const counts = new Array<number>(TYPES).fill(0);
    let units = 0;
    let revenue = 0;
    let firstTs = Infinity;
    let lastTs = -Infinity;
    let recent = 0;
    const distinct = this.scratch;
    distinct.reset();
    for (let q = head; q !== NONE; q = this.next[q]) {
      const p = this.start[q];
      if (p < start || p >= end) continue;
      let n = 0;
      for (let i = 0; i < TYPES; i++) {
        const c = this.counts[q * TYPES + i];
        counts[i] += c;
        n += c;
      }
      if (p >= recentFrom) recent += n;
      units += this.units[q];
      revenue += this.revenue[q];
      if (this.first[q] < firstTs) firstTs = this.first[q];
      if (this.last[q] > lastTs) lastTs = this.last[q];
      const k = this.hashN[q];
      if (k === SPILLED) distinct.merge(this.overflow.get(q) as HashDistinct);
      else for (let i = 0; i < k; i++) distinct.add(this.hashes[q * this.inline + i]);
    }
    const byType = {} as Record<EventType, number>;
    let total = 0;
    for (const t of EVENT_TYPES) {
      const c = counts[TYPE_CODE[t]];
      byType[t] = c;
      total += c;
    }
    return {
      counts: byType,
      total,
      distinct: distinct.estimate(),
      distinctExact: distinct.exact,
      units,
      revenue,
      firstTs,
      lastTs,
      recent,
    };
  }

  private addHash(q: number, h: number): void {
    const k = this.hashN[q];
    if (k === SPILLED) {
      (this.overflow.get(q) as HashDistinct).add(h);
      return;
    }
    const base = q * this.inline;
    for (let i = 0; i < k; i++) if (this.hashes[base + i] === h) return;
    if (k < this.inline) {
      this.hashes[base + k] = h;
      this.hashN[q] = k + 1;
      return;
    }
    const d = new HashDistinct(this.precision, this.exactLimit);
    for (let i = 0; i < k; i++) d.add(this.hashes[base + i]);
    d.add(h);
    this.overflow.set(q, d);
    this.hashN[q] = SPILLED;
  }

  private grow(): void {
    // doubling up to 65,536 panes, then by a quarter (less unused tail; models/core/arrays.ts)
    const cur = this.start.length;
    const n = Math.max(64, cur < 65_536 ? cur * 2 : cur + (cur >> 2));
    const f64 = (a: Float64Array): Float64Array => grow(a, new Float64Array(n));
    this.start = f64(this.start);
    this.first = f64(this.first);
    this.last = f64(this.last);
    this.units = f64(this.units);
    this.revenue = f64(this.revenue);
    this.counts = grow(this.counts, new Int32Array(n * TYPES));
    this.next = grow(this.next, new Int32Array(n));
    this.hashN = grow(this.hashN, new Int8Array(n));
    this.hashes = grow(this.hashes, new Int32Array(n * this.inline));
  }
}

export function grow<T extends Float64Array | Int32Array | Int8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
