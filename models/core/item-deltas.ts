import { growF32, growF64, growI32, growU8 } from './arrays.js';
import type { DecayClock } from './decay.js';

/**
 * Item-side state changes of a model, gathered while it learns a batch, so other instances can
 * apply them instead of learning the events themselves (docs/scaling.md, "Item state replica").
 *
 * Decayed counters are stored by each component in its own clock's inflated units, which depend
 * on the clock's origin, i.e. on the process. A delta is therefore expressed relative to the
 * batch's reference event time `ref`: an increment v at event time ts is v·2^((ts − ref)/H). The
 * receiving component multiplies by its own clock's weight(ref), which restores its units.
 */

/** Per-item decayed counters a delta carries, one slot each. */
export const KNN_POP = 0;
export const MF_POP = 1;
export const TREND = 2;
export const POPULAR = 3;
export const INTENT = 4;
export const SCALARS = 5;

const EMPTY = -1;
/** Per-slot flags: the item has counters, a factor row. */
const HAS_SCALARS = 1;
const HAS_FACTORS = 2;

/**
 * Gathers a batch's item-side changes in typed arrays: a model records one to a few dozen
 * values per learned event (5 factor rows, up to 16 co-visitation pairs), so a Map lookup per
 * value, with boxed double keys for pairs, cost more than learning itself (BENCHMARKS.md,
 * horizontal scale). Items get a dense slot per batch through a stamped per-item index; pairs
 * live in an open-addressing table of (row, column) keys.
 */
export class ItemDeltaCollector {
  /** Reference event time of the values gathered since the last take(); NaN while empty. */
  ref = Number.NaN;
  /** Newest event time gathered since the last take(). */
  last = Number.NEGATIVE_INFINITY;
  events = 0;
  /**
   * Factor-delta rows (Δq[0..dim), Δbias at dim), one per slot: factorRow() returns an offset
   * into this array, which may be replaced by a larger one on the next factorRow() call.
   */
  fac: Float32Array;
  /** Per item id: the batch (epoch) its slot belongs to, and the slot. Bound: the item count. */
  private stamp = new Int32Array(0);
  private slotOf = new Int32Array(0);
  private epoch = 1;
  /** Per slot: item id, SCALARS counters, whether it has a factor row. Bound: items per batch. */
  private slotItem = new Int32Array(256);
  private sc = new Float64Array(256 * SCALARS);
  private has = new Uint8Array(256);
  private slots = 0;
  /** Pair table: keys (row, col) interleaved, values, used buckets in insertion order. */
  private pk = new Int32Array(2 * 1024).fill(EMPTY);
  private pv = new Float64Array(1024);
  private used = new Int32Array(512);
  private nPairs = 0;
  /** Per item id: its delta partition, for `partCount` partitions (-1 = not computed yet). */
  private partOf = new Int32Array(0);
  private partCount = 0;
  private readonly origin = new Float64Array(SCALARS + 1).fill(Number.NaN);
  private readonly scale = new Float64Array(SCALARS + 1);

  constructor(readonly dim: number) {
    this.fac = new Float32Array(256 * (dim + 1));
  }

  /** Called once per learned event, before its components record anything. */
  begin(ts: number): void {
    if (this.ref !== this.ref) this.ref = ts;
    if (ts > this.last) this.last = ts;
    this.events++;
  }

  /**
   * Factor from `clock`'s inflated units to units relative to `ref` (slot: a cache per clock;
   * SCALARS is the item-bias clock's).
   */
  unit(slot: number, clock: DecayClock): number {
    if (this.origin[slot] !== clock.origin) {
      this.origin[slot] = clock.origin;
      this.scale[slot] = Math.pow(2, (clock.origin - this.ref) / clock.halfLifeMs);
    }
    return this.scale[slot] as number;
  }

  scalar(item: number, slot: number, value: number): void {
    // slot() may replace this.sc: read the field after it
    const s = this.slot(item);
    this.has[s] |= HAS_SCALARS;
    this.sc[s * SCALARS + slot] += value;
  }

  pair(row: number, col: number, value: number): void {
    let mask = this.pv.length - 1;
    let h = (Math.imul(row, 0x9e3779b1) ^ Math.imul(col, 0x85ebca6b)) & mask;
    const pk = this.pk;
    for (;;) {
      const r = pk[2 * h] as number;
      if (r === EMPTY) break;
      if (r === row && pk[2 * h + 1] === col) {
        this.pv[h] += value;
        return;
      }
      h = (h + 1) & mask;
    }
    if (2 * (this.nPairs + 1) > this.pv.length) {
      this.growPairs();
      mask = this.pv.length - 1;
      h = (Math.imul(row, 0x9e3779b1) ^ Math.imul(col, 0x85ebca6b)) & mask;
      while (this.pk[2 * h] !== EMPTY) h = (h + 1) & mask;
    }
    this.pk[2 * h] = row;
    this.pk[2 * h + 1] = col;
    this.pv[h] = value;
    if (this.nPairs >= this.used.length) this.used = growI32(this.used, this.nPairs + 1);
    this.used[this.nPairs++] = h;
  }

  /** Offset in `fac` of the factor-delta row of `item`, created (zero) on first use. */
  factorRow(item: number): number {
    const s = this.slot(item);
    this.has[s] |= HAS_FACTORS;
    return s * (this.dim + 1);
  }

  get empty(): boolean {
    return this.events === 0;
  }

  /** What was gathered, by item name, split by item partition; starts over. */
  take(name: (item: number) => string, partitions: number): ItemDeltaRecord[] {
    const records = this.build(name, Math.max(1, partitions));
    this.ref = Number.NaN;
    this.last = Number.NEGATIVE_INFINITY;
    this.events = 0;
    this.origin.fill(Number.NaN);
    this.epoch++;
    this.slots = 0;
    for (let t = 0; t < this.nPairs; t++) this.pk[2 * (this.used[t] as number)] = EMPTY;
    this.nPairs = 0;
    return records;
  }

  private slot(item: number): number {
    if (item >= this.stamp.length) {
      this.stamp = growI32(this.stamp, item + 1);
      this.slotOf = growI32(this.slotOf, item + 1);
    }
    if (this.stamp[item] === this.epoch) return this.slotOf[item] as number;
    const s = this.slots++;
    if (s >= this.slotItem.length) {
      const n = 2 * this.slotItem.length;
      this.slotItem = growI32(this.slotItem, n);
      this.sc = growF64(this.sc, n * SCALARS);
      this.has = growU8(this.has, n);
      this.fac = growF32(this.fac, n * (this.dim + 1));
    }
    this.stamp[item] = this.epoch;
    this.slotOf[item] = s;
    this.slotItem[s] = item;
    this.sc.fill(0, s * SCALARS, (s + 1) * SCALARS);
    this.fac.fill(0, s * (this.dim + 1), (s + 1) * (this.dim + 1));
    this.has[s] = 0;
    return s;
  }

  private growPairs(): void {
    const pk = this.pk;
    const pv = this.pv;
    const cap = 2 * pv.length;
    const mask = cap - 1;
    this.pk = new Int32Array(2 * cap).fill(EMPTY);
    this.pv = new Float64Array(cap);
    for (let t = 0; t < this.nPairs; t++) {
      const o = this.used[t] as number;
      const row = pk[2 * o] as number;
      const col = pk[2 * o + 1] as number;
      let h = (Math.imul(row, 0x9e3779b1) ^ Math.imul(col, 0x85ebca6b)) & mask;
      while (this.pk[2 * h] !== EMPTY) h = (h + 1) & mask;
      this.pk[2 * h] = row;
      this.pk[2 * h + 1] = col;
      this.pv[h] = pv[o] as number;
      this.used[t] = h;
    }
  }

  private part(item: number, name: (item: number) => string): number {
    if (item >= this.partOf.length) this.partOf = growI32(this.partOf, item + 1, EMPTY);
    let q = this.partOf[item] as number;
    if (q < 0) {
      q = itemPartition(name(item), this.partCount);
      this.partOf[item] = q;
    }
    return q;
  }

  /**
   * One record per partition that has anything: its items (those of the partition, then the
   * columns of its pairs that belong to other partitions), their counters, factor rows, pairs.
   */
  private build(name: (item: number) => string, partitions: number): ItemDeltaRecord[] {
    if (partitions !== this.partCount) {
      this.partCount = partitions;
      this.partOf.fill(EMPTY);
    }
    const dim1 = this.dim + 1;
    const slotPart = new Int32Array(this.slots);
    const nItems = new Int32Array(partitions);
    const nFac = new Int32Array(partitions);
    const nSc = new Int32Array(partitions);
    const nPair = new Int32Array(partitions);
    for (let s = 0; s < this.slots; s++) {
      const q = this.part(this.slotItem[s] as number, name);
      slotPart[s] = q;
      nItems[q]++;
      if ((this.has[s] & HAS_FACTORS) !== 0) nFac[q]++;
      if ((this.has[s] & HAS_SCALARS) !== 0) nSc[q]++;
    }
    const pairPart = new Int32Array(this.nPairs);
    let top = this.stamp.length - 1;
    for (let t = 0; t < this.nPairs; t++) {
      const o = this.used[t] as number;
      top = Math.max(top, this.pk[2 * o] as number, this.pk[2 * o + 1] as number);
      const q = this.part(this.pk[2 * o] as number, name);
      pairPart[t] = q;
      nPair[q]++;
    }
    this.stamp = growI32(this.stamp, top + 1);
    this.slotOf = growI32(this.slotOf, top + 1);
    // Local index of an item inside the record being built: slotOf[] with a fresh stamp.
    const out: ItemDeltaRecord[] = [];
    for (let q = 0; q < partitions; q++) {
      if (nItems[q] === 0 && nPair[q] === 0) continue;
      const mark = ++this.epoch;
      const items: string[] = [];
      const localOf = (item: number): number => {
        if (this.stamp[item] === mark) return this.slotOf[item] as number;
        this.stamp[item] = mark;
        this.slotOf[item] = items.length;
        items.push(name(item));
        return items.length - 1;
      };
      const scalarItems = new Int32Array(nSc[q] as number);
      const scalars = new Float32Array((nSc[q] as number) * SCALARS);
      let c = 0;
      const factorItems = new Int32Array(nFac[q] as number);
      const factors = new Float32Array((nFac[q] as number) * dim1);
      let f = 0;
      for (let s = 0; s < this.slots; s++) {
        if (slotPart[s] !== q) continue;
        const k = localOf(this.slotItem[s] as number);
        if ((this.has[s] & HAS_SCALARS) !== 0) {
          scalarItems[c] = k;
          for (let x = 0; x < SCALARS; x++)
            scalars[c * SCALARS + x] = this.sc[s * SCALARS + x] as number;
          c++;
        }
        if ((this.has[s] & HAS_FACTORS) !== 0) {
          factorItems[f] = k;
          factors.set(this.fac.subarray(s * dim1, (s + 1) * dim1), f * dim1);
          f++;
        }
      }
      const np = nPair[q] as number;
      const pairRows = new Int32Array(np);
      const pairCols = new Int32Array(np);
      const pairValues = new Float32Array(np);
      let p = 0;
      for (let t = 0; t < this.nPairs; t++) {
        if (pairPart[t] !== q) continue;
        const o = this.used[t] as number;
        pairRows[p] = localOf(this.pk[2 * o] as number);
        pairCols[p] = localOf(this.pk[2 * o + 1] as number);
        pairValues[p] = this.pv[o] as number;
        p++;
      }
      out.push({
        partition: q,
        ref: this.ref,
        last: this.last,
        events: this.events,
        dim: this.dim,
        items,
        scalarItems,
        scalars,
        factorItems,
        factors,
        pairRows,
        pairCols,
        pairValues,
      });
    }
    return out;
  }
}

/** One batch's item deltas for the items of one partition (rows of pairs included by row). */
export interface ItemDeltaRecord {
  readonly partition: number;
  readonly ref: number;
  /** The batch's newest event time (clocks that only move forward advance to it). */
  readonly last: number;
  /** Events of the whole batch (every partition's record carries the same number). */
  readonly events: number;
  readonly dim: number;
  readonly items: readonly string[];
  /** A decoded record's ids as their bytes when all are ASCII (the usual case), for ItemNameCache. */
  readonly asciiNames?: AsciiItemNames;
  /**
   * Indexes into `items` of the items whose counters changed (the others only have a factor
   * row or are columns of pairs), and SCALARS counters per such item. Float32: they are
   * relative to `ref`, so single precision loses nothing that matters against 64-bit sums.
   */
  readonly scalarItems: Int32Array;
  readonly scalars: Float32Array;
  /** Indexes into `items` of the factor rows, and the rows (dim + 1 each). */
  readonly factorItems: Int32Array;
  readonly factors: Float32Array;
  readonly pairRows: Int32Array;
  readonly pairCols: Int32Array;
  readonly pairValues: Float32Array;
}

/** Item ids as ASCII bytes: id k is `lengths[k]` bytes, after those of ids 0..k-1, from `from`. */
export interface AsciiItemNames {
  readonly bytes: Uint8Array;
  readonly from: number;
  readonly lengths: Uint32Array;
}

/** The item's partition of the delta topic: FNV-1a of its id (stable across processes). */
export function itemPartition(itemId: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let c = 0; c < itemId.length; c++) {
    h ^= itemId.charCodeAt(c);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % Math.max(1, partitions);
}

/** A seed per item id, so every instance starts an item's factor row from the same values. */
export function itemSeed(itemId: string): number {
  return itemPartition(itemId, 0x7fffffff) + 1;
}
