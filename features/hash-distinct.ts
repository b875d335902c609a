import { hash32 } from '../stream/windowing/distinct-counter.js';

/**
 * Distinct count over 32-bit hashes of the values (hash32, the same hash the HyperLogLog of
 * `DistinctCounter` uses), exact while at most `exactLimit` hashes, then a HyperLogLog sketch of
 * 2^precision one-byte registers. Holding hashes instead of the id strings is what makes the
 * exact regime cheap (a number per value, no string kept alive); the price is that two distinct
 * values with the same hash count once: for n values the chance of any such collision is about
 * n² / 2^33 (5 × 10⁻⁷ at the default limit of 64), far below the sketch's own error.
 */
export class HashDistinct {
  private exactSet: Set<number> | null = new Set();
  private registers: Uint8Array | null = null;
  /** a scratch counter's registers between reset() and its next sketch (one array) */
  private spare: Uint8Array | null = null;

  constructor(
    readonly precision: number,
    readonly exactLimit: number,
  ) {}

  /**
   * Empties the counter and keeps its set and registers for reuse: window reads merge panes
   * into one scratch counter instead of a new Set and 1 KiB sketch per read (issue 11).
   */
  reset(): void {
    if (this.registers !== null) {
      this.spare = this.registers;
      this.registers = null;
    }
    if (this.exactSet === null) this.exactSet = new Set();
    else this.exactSet.clear();
  }

  get exact(): boolean {
    return this.registers === null;
  }

  add(h: number): void {
    const set = this.exactSet;
    if (set !== null) {
      set.add(h);
      if (set.size > this.exactLimit) this.toSketch();
      return;
    }
    addRegister(this.registers as Uint8Array, this.precision, h);
  }

  /** Folds another counter in; a sketch on either side makes the union a sketch. */
  merge(other: HashDistinct): void {
    if (other.exactSet !== null) {
      for (const h of other.exactSet) this.add(h);
      return;
    }
    if (this.registers === null) this.toSketch();
    const mine = this.registers as Uint8Array;
    const theirs = other.registers as Uint8Array;
    for (let i = 0; i < mine.length; i++) if (theirs[i] > mine[i]) mine[i] = theirs[i];
  }

  /** Right to erasure: an exact count drops the hash; a sketch cannot give one back. */
  forget(h: number): boolean {
    return this.exactSet?.delete(h) ?? false;
  }

  estimate(): number {
    return this.exactSet !== null
      ? this.exactSet.size
      : estimateRegisters(this.registers as Uint8Array);
  }

  forEachExact(fn: (h: number) => void): void {
    if (this.exactSet !== null) for (const h of this.exactSet) fn(h);
  }

  get sketch(): Uint8Array | null {
    return this.registers;
  }

  /** Restores a sketch (serialised state); the counter must still be empty. */
  setSketch(registers: Uint8Array): void {
    this.exactSet = null;
    this.registers = registers;
  }

  private toSketch(): void {
    const regs = this.spare ?? new Uint8Array(1 << this.precision);
    this.spare = null;
    regs.fill(0);
    if (this.exactSet !== null) for (const h of this.exactSet) addRegister(regs, this.precision, h);
    this.exactSet = null;
    this.registers = regs;
  }
}

/** The hash distinct counts hold for an id: signed, so it is a small integer in V8 (no box). */
export function idHash(id: string): number {
  return hash32(id) | 0;
}

function addRegister(regs: Uint8Array, p: number, h: number): void {
  const u = h >>> 0;
  const idx = u >>> (32 - p);
  const rest = (u << p) >>> 0;
  const rank = rest === 0 ? 33 - p : Math.clz32(rest) + 1;
  if (rank > regs[idx]) regs[idx] = rank;
}

/** 2^-r for every register value (ranks are at most 33 - precision) */
const INV_POW2 = Float64Array.from({ length: 64 }, (_, r) => 2 ** -r);

/** HyperLogLog estimate with the small- and large-range corrections of DistinctCounter. */
export function estimateRegisters(regs: Uint8Array): number {
  const m = regs.length;
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < m; i++) {
    const r = regs[i];
    sum += INV_POW2[r];
    if (r === 0) zeros++;
  }
  const alpha = 0.7213 / (1 + 1.079 / m);
  const raw = (alpha * m * m) / sum;
  if (raw <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
  const two32 = 2 ** 32;
  if (raw > two32 / 30) return Math.round(-two32 * Math.log(1 - raw / two32));
  return Math.round(raw);
}
