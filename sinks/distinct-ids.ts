/**
 * A count of distinct ids without holding them: each id is kept as 64 bits of hash in an
 * open-addressing table of Int32 pairs (8 B per slot, at most 3/4 full), where a Map of the id
 * strings cost about 37 B per id for its table alone (issue 12). The count is exact unless two
 * ids share all 64 bits (about 1e-9 for 200,000 ids).
 * Bound: `capacity` ids; past it, new ids are not counted, so `size` stays at `capacity` as a
 * least-recently-used map's size would.
 */
export class DistinctIds {
  private lo = new Int32Array(16);
  private hi = new Int32Array(16);
  private n = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be >= 1, got ${capacity}`);
  }

  get size(): number {
    return this.n;
  }

  add(id: string): void {
    // two FNV-1a style hashes with different bases and primes; 0/0 marks an empty slot
    let a = 0x811c9dc5 | 0;
    let b = 0x1b873593 | 0;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
    // a final mix, so ids that differ only in their last character spread over the table
    a ^= a >>> 16;
    a = Math.imul(a, 0x85ebca6b);
    a ^= a >>> 13;
    b ^= b >>> 15;
    if (a === 0 && b === 0) b = 1;
    if (!this.has(a, b) && this.n < this.capacity) {
      if ((this.n + 1) * 4 > this.lo.length * 3) this.grow();
      this.put(a, b);
      this.n++;
    }
  }

  private has(a: number, b: number): boolean {
    const { lo, hi } = this;
    const cap = lo.length;
    for (let i = home(a, cap); ; i = i + 1 === cap ? 0 : i + 1) {
      const x = lo[i];
      const y = hi[i];
      if (x === a && y === b) return true;
      if (x === 0 && y === 0) return false;
    }
  }

  private put(a: number, b: number): void {
    const { lo, hi } = this;
    const cap = lo.length;
    let i = home(a, cap);
    while (lo[i] !== 0 || hi[i] !== 0) i = i + 1 === cap ? 0 : i + 1;
    lo[i] = a;
    hi[i] = b;
  }

  private grow(): void {
    const { lo, hi } = this;
    // doubling up to 65,536 slots, then by a quarter (less unused tail; models/core/arrays.ts)
    const size = lo.length < 65_536 ? lo.length * 2 : lo.length + (lo.length >> 2);
    this.lo = new Int32Array(size);
    this.hi = new Int32Array(size);
    for (let i = 0; i < hi.length; i++) if (lo[i] !== 0 || hi[i] !== 0) this.put(lo[i], hi[i]);
  }
}

/** The first slot for hash `a` in a table of `cap` slots (any size, not only powers of two). */
function home(a: number, cap: number): number {
  return Math.floor(((a >>> 0) / 4_294_967_296) * cap);
}
