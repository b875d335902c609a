import { EVENT_TYPES, type ClickEvent, type EventType } from '../models/event.js';
import { TYPE_CODE } from '../models/core/weights.js';
import type { Activity } from './activity.js';
import { HashDistinct } from './hash-distinct.js';
import { PaneHashes } from './pane-hashes.js';
import { grow, grownLength } from './pane-arrays.js';
import type { PaneSink } from './window-changelog-codec.js';

const TYPES = EVENT_TYPES.length;
export const NONE = -1;

/** One pane as plain data, for serialisation (a changelog codec) and restore. */
export interface PaneRecord {
  readonly start: number;
  readonly counts: readonly number[];
  readonly units: number;
  readonly revenue: number;
  readonly firstTs: number;
  readonly lastTs: number;
  /** The distinct values' 32-bit hashes while exact; `sketch` once past the exact limit. */
  readonly hashes?: readonly number[];
  readonly sketch?: Uint8Array;
}

/** A narrow count at this value means the count is in `wide` (it reached 255 or is negative). */
const WIDE = 255;
/** first/last column value of a pane with no event time yet (first Infinity, last -Infinity). */
const EMPTY_TS = 0xffff_ffff;
/** first/last column value whose time is in `exactTs` (not a whole ms offset in 0..2^32-3). */
const EXACT_TS = 0xffff_fffe;

/**
 * The panes of one family, column-wise: a pane is a row index into typed arrays, 40 bytes and no
 * object: start (8), next pane of the same key (4), first and last event time as ms offsets from
 * the start (4 + 4), counts by type (1 each, 7), index of its units/revenue pair (4), 2 distinct
 * hashes and their number (8 + 1). Units and revenue (16 bytes) are only non-zero in panes that
 * saw a purchase, so only those get a pair; a pane with 3 or 4 distinct values keeps them in a
 * 16-byte `ext` row; both side arrays are reused through their own free lists. What does not
 * fit its narrow column keeps its exact value in a map keyed by pane: a count past 254 (`wide`),
 * an event time that is not a whole ms within 2^32 - 3 of the pane start (`exactTs`), more
 * distinct values than 4 (`overflow`, a HashDistinct, as before). Read back, every field and
 * the order of the hashes are what the Float64/Int32 columns gave before (see
 * test/unit/pane-rows.test.ts).
 * Freed rows are reused (free list through `next`).
 * Bound: the live panes of the family's keys; the arrays grow (by doubling, then by a quarter beyond 65,536 panes) and never shrink.
 */
export class PaneRows {
  start = new Float64Array(0);
  next = new Int32Array(0);
  /** Event time minus start, or EMPTY_TS / EXACT_TS. */
  private first = new Uint32Array(0);
  private last = new Uint32Array(0);
  /** The pane's slot in units/revenue, NONE until its first purchase (or a load with either non-zero). */
  private money = new Int32Array(0);
  /** Counts by type, 0..254, or WIDE. */
  private counts = new Uint8Array(0);
  /** Each pane's distinct values (what the family counts distinct), by pane row. */
  private readonly hashes: PaneHashes;
  /**
   * Units and revenue by money slot; a free slot's `units` holds the next free slot. Bound: one
   * slot per live pane that saw a purchase; grows like the pane columns and never shrinks.
   */
  private units = new Float64Array(0);
  private revenue = new Float64Array(0);
  private moneyFree = NONE;
  private moneyTop = 0;
  /** Counts (Int32, as the column held them) of panes with a WIDE count. Bound: one per live pane. */
  private readonly wide = new Map<number, Int32Array>();
  /** Event times that do not fit the offset columns, by 2 * pane (first) and 2 * pane + 1 (last). Bound: two per live pane. */
  private readonly exactTs = new Map<number, number>();
  /** merge()'s counter, reset per call (only its estimate leaves merge) */
  private readonly scratch: HashDistinct;
  /** writeTo's counts of one pane (the sink copies them out before the call returns) */
  private readonly rowCounts = new Int32Array(TYPES);
  private free = NONE;
  private top = 0;
  live = 0;

  constructor(precision: number, exactLimit: number) {
    this.hashes = new PaneHashes(precision, exactLimit);
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
    this.first[q] = EMPTY_TS;
    this.last[q] = EMPTY_TS;
    this.money[q] = NONE;
    this.counts.fill(0, q * TYPES, (q + 1) * TYPES);
    this.hashes.clear(q);
    this.next[q] = NONE;
    this.live++;
    return q;
  }

  release(q: number): void {
    this.hashes.drop(q);
    const m = this.money[q];
    if (m !== NONE) {
      this.units[m] = this.moneyFree;
      this.moneyFree = m;
      this.money[q] = NONE;
    }
    if (this.wide.size !== 0) this.wide.delete(q);
    if (this.first[q] === EXACT_TS) this.exactTs.delete(2 * q);
    if (this.last[q] === EXACT_TS) this.exactTs.delete(2 * q + 1);
    this.start[q] = NaN;
    this.next[q] = this.free;
    this.free = q;
    this.live--;
  }

  /** Counts one event into pane q; `h` is the hash of what the family counts distinct. */
  add(q: number, e: ClickEvent, ts: number, h: number): void {
    const i = TYPE_CODE[e.type];
    const j = q * TYPES + i;
    const c = this.counts[j];
    if (c < WIDE - 1) this.counts[j] = c + 1;
    else this.setCount(q, i, (this.count(q, i) + 1) | 0); // | 0: Int32 wrap-around, as before
    if (e.type === 'purchase') {
      const m = this.moneySlot(q);
      const n = e.quantity ?? 1;
      this.units[m] += n;
      if (e.price !== undefined) this.revenue[m] += e.price * n;
    }
    if (ts < this.firstTs(q)) this.setTs(this.first, q, 2 * q, ts, Infinity);
    if (ts > this.lastTs(q)) this.setTs(this.last, q, 2 * q + 1, ts, -Infinity);
    this.hashes.add(q, h);
  }

  /** Right to erasure: drops the hash from every exact distinct count (sketches hold none). */
  forgetHash(h: number): void {
    this.hashes.forget(h, this.top);
  }

  /** Pane q into a changelog record, as `record` would give it, without building it. */
  writeTo(q: number, w: PaneSink): void {
    const sketch = this.hashes.sketch(q);
    const counts = this.rowCounts;
    for (let i = 0; i < TYPES; i++) counts[i] = this.count(q, i);
    const m = this.money[q];
    w.pane(
      this.start[q],
      m === NONE ? 0 : this.units[m],
      m === NONE ? 0 : this.revenue[m],
      this.firstTs(q),
      this.lastTs(q),
      counts,
      0,
      TYPES,
      sketch,
    );
    if (!sketch) this.hashes.writeTo(q, w);
  }

  /** Pane q as plain data. */
  record(q: number): PaneRecord {
    const hashes = this.hashes.list(q);
    const sketch = this.hashes.sketch(q);
    const counts: number[] = [];
    for (let i = 0; i < TYPES; i++) counts.push(this.count(q, i));
    const m = this.money[q];
    return {
      start: this.start[q],
      counts,
      units: m === NONE ? 0 : this.units[m],
      revenue: m === NONE ? 0 : this.revenue[m],
      firstTs: this.firstTs(q),
      lastTs: this.lastTs(q),
      ...(sketch ? { sketch: sketch.slice() } : { hashes }),
    };
  }

  /** Overwrites pane q (allocated for r.start) with a record. */
  load(q: number, r: PaneRecord): void {
    this.wide.delete(q);
    // | 0 is the conversion an Int32Array store applied to the record's counts
    for (let i = 0; i < TYPES; i++) this.setCount(q, i, (r.counts[i] ?? 0) | 0);
    // +0 is what a pane without a money slot reads as; anything else (-0 too) needs one
    const m =
      this.money[q] !== NONE || !Object.is(r.units, 0) || !Object.is(r.revenue, 0)
        ? this.moneySlot(q)
        : NONE;
    if (m !== NONE) {
      this.units[m] = r.units;
      this.revenue[m] = r.revenue;
    }
    this.setTs(this.first, q, 2 * q, r.firstTs, Infinity);
    this.setTs(this.last, q, 2 * q + 1, r.lastTs, -Infinity);
    if (r.sketch) this.hashes.loadSketch(q, r.sketch);
    else for (const h of r.hashes ?? []) this.hashes.add(q, h);
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
        let c = this.counts[q * TYPES + i];
        if (c === WIDE) c = this.count(q, i);
        counts[i] += c;
        n += c;
      }
      if (p >= recentFrom) recent += n;
      // A pane without a slot holds +0, and adding +0 changes no sum that starts at +0.
      const m = this.money[q];
      if (m !== NONE) {
        units += this.units[m];
        revenue += this.revenue[m];
      }
      const f = this.firstTs(q);
      if (f < firstTs) firstTs = f;
      const l = this.lastTs(q);
      if (l > lastTs) lastTs = l;
      this.hashes.mergeInto(q, distinct);
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

  private count(q: number, i: number): number {
    const c = this.counts[q * TYPES + i];
    return c === WIDE ? (this.wide.get(q) as Int32Array)[i] : c;
  }

  /** Sets a count (an Int32 value), in the narrow column when it fits. */
  private setCount(q: number, i: number, v: number): void {
    if (v >= 0 && v < WIDE) {
      this.counts[q * TYPES + i] = v;
      return;
    }
    let row = this.wide.get(q);
    if (row === undefined) {
      row = new Int32Array(TYPES);
      this.wide.set(q, row);
    }
    row[i] = v;
    this.counts[q * TYPES + i] = WIDE;
  }

  private firstTs(q: number): number {
    const d = this.first[q];
    if (d < EXACT_TS) return this.start[q] + d;
    return d === EMPTY_TS ? Infinity : (this.exactTs.get(2 * q) as number);
  }

  private lastTs(q: number): number {
    const d = this.last[q];
    if (d < EXACT_TS) return this.start[q] + d;
    return d === EMPTY_TS ? -Infinity : (this.exactTs.get(2 * q + 1) as number);
  }

  /**
   * Stores event time `ts` of pane q in column `col` (first or last; `key` its exactTs key,
   * `empty` the value EMPTY_TS stands for): as an offset only when start + offset gives back
   * exactly `ts` (a whole ms, -0 included), else in exactTs.
   */
  private setTs(col: Uint32Array, q: number, key: number, ts: number, empty: number): void {
    if (col[q] === EXACT_TS) this.exactTs.delete(key);
    const s = this.start[q];
    const d = ts - s;
    if (d >= 0 && d < EXACT_TS && Number.isInteger(d) && Object.is(s + d, ts)) col[q] = d;
    else if (Object.is(ts, empty)) col[q] = EMPTY_TS;
    else {
      col[q] = EXACT_TS;
      this.exactTs.set(key, ts);
    }
  }

  /** Pane q's units/revenue slot, taken (zeroed) from the free list or the end on first use. */
  private moneySlot(q: number): number {
    let m = this.money[q];
    if (m !== NONE) return m;
    m = this.moneyFree;
    if (m !== NONE) this.moneyFree = this.units[m];
    else {
      if (this.moneyTop === this.units.length) {
        const n = grownLength(this.units.length);
        this.units = grow(this.units, new Float64Array(n));
        this.revenue = grow(this.revenue, new Float64Array(n));
      }
      m = this.moneyTop++;
    }
    this.units[m] = 0;
    this.revenue[m] = 0;
    this.money[q] = m;
    return m;
  }

  private grow(): void {
    const n = grownLength(this.start.length);
    this.start = grow(this.start, new Float64Array(n));
    this.first = grow(this.first, new Uint32Array(n));
    this.last = grow(this.last, new Uint32Array(n));
    this.money = grow(this.money, new Int32Array(n));
    this.counts = grow(this.counts, new Uint8Array(n * TYPES));
    this.next = grow(this.next, new Int32Array(n));
    this.hashes.grow(n);
  }
}
