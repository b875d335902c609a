/**
 * Distinct count that is exact while small and becomes a HyperLogLog sketch past `exactLimit`.
 * Most windows (one user's 5 minutes, a niche item's hour) see a handful of distinct values, so
 * they pay for a small Set and report exact counts; only busy windows switch to a fixed
 * 2^precision-byte sketch whose relative standard error is 1.04 / sqrt(2^precision).
 */
export class DistinctCounter {
  /** The only value while there is one: most windows (one user, a few minutes) never need a Set. */
  private first: string | undefined = undefined;
  private exactSet: Set<string> | null = null;
  private registers: Uint8Array | null = null;

  constructor(
    readonly precision = 10,
    readonly exactLimit = 64,
  ) {
    if (!Number.isInteger(precision) || precision < 4 || precision > 16) {
      throw new RangeError(`HyperLogLog precision must be an integer in 4..16, got ${precision}`);
    }
  }

  /** Relative standard error of the sketch once it is no longer exact. */
  static standardError(precision: number): number {
    return 1.04 / Math.sqrt(2 ** precision);
  }

  get exact(): boolean {
    return this.registers === null;
  }

  add(value: string): void {
    if (this.registers !== null || this.exactLimit < 1) {
      if (this.registers === null) this.toSketch();
      this.addHash(hash32(value));
      return;
    }
    const set = this.exactSet;
    if (set === null) {
      if (this.first === undefined || this.first === value) this.first = value;
      else {
        this.exactSet = new Set([this.first, value]);
        this.first = undefined;
        if (this.exactLimit < 2) this.toSketch();
      }
      return;
    }
    set.add(value);
    if (set.size > this.exactLimit) this.toSketch();
  }

  /**
   * Removes `value` while the count is exact (right to erasure: an exact count holds the values
   * themselves). A sketch holds only hashes, from which no value can be read back or removed.
   */
  forget(value: string): boolean {
    if (this.registers !== null) return false;
    if (this.first === value) {
      this.first = undefined;
      return true;
    }
    return this.exactSet?.delete(value) ?? false;
  }

  /** Folds `other` into this counter; both must use the same precision. */
  merge(other: DistinctCounter): void {
    if (other.precision !== this.precision)
      throw new RangeError('cannot merge sketches of different precision');
    if (other.registers === null) {
      if (other.first !== undefined) this.add(other.first);
      if (other.exactSet !== null) for (const v of other.exactSet) this.add(v);
      return;
    }
    if (this.registers === null) this.toSketch();
    const mine = this.registers as Uint8Array;
    const theirs = other.registers;
    for (let i = 0; i < mine.length; i++) if (theirs[i] > mine[i]) mine[i] = theirs[i];
  }

  estimate(): number {
    const regs = this.registers;
    if (regs === null) {
      if (this.exactSet !== null) return this.exactSet.size;
      return this.first === undefined ? 0 : 1;
    }
    const m = regs.length;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < m; i++) {
      const r = regs[i];
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const alpha = 0.7213 / (1 + 1.079 / m);
    const raw = (alpha * m * m) / sum;
    // Small range: linear counting is far more accurate while registers are still empty.
    if (raw <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
    const two32 = 2 ** 32;
    // Large range: a 32-bit hash starts colliding near 2^32 distinct values.
    if (raw > two32 / 30) return Math.round(-two32 * Math.log(1 - raw / two32));
    return Math.round(raw);
  }

  private toSketch(): void {
    this.registers = new Uint8Array(1 << this.precision);
    if (this.first !== undefined) this.addHash(hash32(this.first));
    if (this.exactSet !== null) for (const v of this.exactSet) this.addHash(hash32(v));
    this.exactSet = null;
    this.first = undefined;
  }

  private addHash(h: number): void {
    const p = this.precision;
    const idx = h >>> (32 - p);
    const rest = (h << p) >>> 0;
    const rank = rest === 0 ? 33 - p : Math.clz32(rest) + 1;
    const regs = this.registers as Uint8Array;
    if (rank > regs[idx]) regs[idx] = rank;
  }
}

/**
 * MurmurHash3-style 32-bit hash of a string's UTF-16 code units. Stable across processes, which
 * matters because sketches of the same window may be merged after a restore.
 */
export function hash32(s: string, seed = 0x9747b28c): number {
  let h = seed | 0;
  for (let i = 0; i < s.length; i++) {
    let k = s.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= s.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
