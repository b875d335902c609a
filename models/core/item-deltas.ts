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

/** Pair keys row·2^26 + col stay exact in a double while ids stay below 2^26 (limits.items). */
const PAIR_SHIFT = 67_108_864;

export class ItemDeltaCollector {
  /** Reference event time of the values gathered since the last take(); NaN while empty. */
  ref = Number.NaN;
  /** Newest event time gathered since the last take(). */
  last = Number.NEGATIVE_INFINITY;
  events = 0;
  /** Per item id: its SCALARS counters. Bound: the items touched by one batch. */
  scalars = new Map<number, Float64Array>();
  /** Co-visitation increments by row·2^26 + col. Bound: the pairs touched by one batch. */
  pairs = new Map<number, number>();
  /** Per item id: Δ factors then Δ bias (dim + 1). Bound: the items touched by one batch. */
  factors = new Map<number, Float32Array>();
  private readonly origin = new Float64Array(SCALARS + 1).fill(Number.NaN);
  private readonly scale = new Float64Array(SCALARS + 1);

  constructor(readonly dim: number) {}

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
    let s = this.scalars.get(item);
    if (s === undefined) {
      s = new Float64Array(SCALARS);
      this.scalars.set(item, s);
    }
    s[slot] += value;
  }

  pair(row: number, col: number, value: number): void {
    const key = row * PAIR_SHIFT + col;
    this.pairs.set(key, (this.pairs.get(key) ?? 0) + value);
  }

  /** The factor-delta row of `item` (Δq[0..dim), Δbias at dim), created on first use. */
  factor(item: number): Float32Array {
    let f = this.factors.get(item);
    if (f === undefined) {
      f = new Float32Array(this.dim + 1);
      this.factors.set(item, f);
    }
    return f;
  }

  get empty(): boolean {
    return this.events === 0;
  }

  /** What was gathered, by item name, split by item partition; starts over. */
  take(name: (item: number) => string, partitions: number): ItemDeltaRecord[] {
    const builders = new Map<number, RecordBuilder>();
    const of = (q: number): RecordBuilder => {
      let b = builders.get(q);
      if (b === undefined) {
        b = new RecordBuilder(this.ref, this.last, this.events, this.dim, q);
        builders.set(q, b);
      }
      return b;
    };
    const part = (i: number): number => itemPartition(name(i), partitions);
    for (const [i, s] of this.scalars) of(part(i)).scalar(name(i), s);
    for (const [i, f] of this.factors) of(part(i)).factor(name(i), f);
    for (const [key, v] of this.pairs) {
      const row = Math.floor(key / PAIR_SHIFT);
      of(part(row)).pair(name(row), name(key - row * PAIR_SHIFT), v);
    }
    this.ref = Number.NaN;
    this.last = Number.NEGATIVE_INFINITY;
    this.events = 0;
    this.origin.fill(Number.NaN);
    this.scalars = new Map();
    this.pairs = new Map();
    this.factors = new Map();
    return [...builders.values()].map((b) => b.build());
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
  /** SCALARS per item of `items`, in its order. */
  readonly scalars: Float64Array;
  /** Indexes into `items` of the factor rows, and the rows (dim + 1 each). */
  readonly factorItems: Int32Array;
  readonly factors: Float32Array;
  readonly pairRows: Int32Array;
  readonly pairCols: Int32Array;
  readonly pairValues: Float32Array;
}

class RecordBuilder {
  private readonly index = new Map<string, number>();
  private readonly items: string[] = [];
  private scalars: number[] = [];
  private readonly factorItems: number[] = [];
  private readonly factors: number[] = [];
  private readonly rows: number[] = [];
  private readonly cols: number[] = [];
  private readonly values: number[] = [];

  constructor(
    private readonly ref: number,
    private readonly last: number,
    private readonly events: number,
    private readonly dim: number,
    private readonly partition: number,
  ) {}

  private id(item: string): number {
    let k = this.index.get(item);
    if (k === undefined) {
      k = this.items.length;
      this.index.set(item, k);
      this.items.push(item);
      for (let s = 0; s < SCALARS; s++) this.scalars.push(0);
    }
    return k;
  }

  scalar(item: string, s: Float64Array): void {
    const k = this.id(item);
    for (let x = 0; x < SCALARS; x++) this.scalars[k * SCALARS + x] = s[x] as number;
  }

  factor(item: string, f: Float32Array): void {
    this.factorItems.push(this.id(item));
    for (const v of f) this.factors.push(v);
  }

  pair(row: string, col: string, v: number): void {
    this.rows.push(this.id(row));
    this.cols.push(this.id(col));
    this.values.push(v);
  }

  build(): ItemDeltaRecord {
    return {
      partition: this.partition,
      ref: this.ref,
      last: this.last,
      events: this.events,
      dim: this.dim,
      items: this.items,
      scalars: Float64Array.from(this.scalars),
      factorItems: Int32Array.from(this.factorItems),
      factors: Float32Array.from(this.factors),
      pairRows: Int32Array.from(this.rows),
      pairCols: Int32Array.from(this.cols),
      pairValues: Float32Array.from(this.values),
    };
  }
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
