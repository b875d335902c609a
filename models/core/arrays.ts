/**
 * Typed arrays that grow so ids can be assigned on first sight: by doubling up to 65,536
 * entries, then by a quarter, so a large array carries at most 25 % unused tail (issue 12:
 * doubling left up to half of the per-id typed-array memory unused).
 */

export type NumericArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

/** Returns `a` if it already holds `n` elements, else a copy with capacity >= n. */
export function growF32(a: Float32Array, n: number): Float32Array {
  if (n <= a.length) return a;
  const b = new Float32Array(nextCap(a.length, n));
  b.set(a);
  return b;
}

export function growF64(a: Float64Array, n: number): Float64Array {
  if (n <= a.length) return a;
  const b = new Float64Array(nextCap(a.length, n));
  b.set(a);
  return b;
}

export function growI32(a: Int32Array, n: number, fill = 0): Int32Array {
  if (n <= a.length) return a;
  const b = new Int32Array(nextCap(a.length, n));
  if (fill !== 0) b.fill(fill, a.length);
  b.set(a);
  return b;
}

export function growU8(a: Uint8Array, n: number): Uint8Array {
  if (n <= a.length) return a;
  const b = new Uint8Array(nextCap(a.length, n));
  b.set(a);
  return b;
}

function nextCap(cur: number, need: number): number {
  let c = Math.max(16, cur);
  while (c < need) c = c < 65_536 ? c * 2 : c + (c >> 2);
  return c;
}

/**
 * One contiguous Float32Array of `dim`-wide rows (row r at r*dim), grown on demand. New rows are
 * filled by `init` so factor models can start them at small random values.
 */
export class RowStore {
  data: Float32Array;
  rows = 0;

  constructor(
    readonly dim: number,
    initialRows = 256,
  ) {
    this.data = new Float32Array(initialRows * dim);
  }

  /** Makes rows [0, n) exist; returns true when new rows were added. */
  ensure(n: number, init: (data: Float32Array, from: number, to: number) => void): boolean {
    if (n <= this.rows) return false;
    this.data = growF32(this.data, n * this.dim);
    init(this.data, this.rows * this.dim, n * this.dim);
    this.rows = n;
    return true;
  }
}

/**
 * `slots` as rows of `width` entries, each a most-recent-first list: moves `value` to the front
 * of row `row`, dropping the row's oldest entry when `value` was not in it.
 */
export function touchRecent(slots: Int32Array, row: number, width: number, value: number): void {
  const base = row * width;
  let end = width - 1;
  for (let p = 0; p < width; p++) {
    if (slots[base + p] === value) {
      end = p;
      break;
    }
  }
  for (let p = base + end; p > base; p--) slots[p] = slots[p - 1];
  slots[base] = value;
}

/** Whether row `row` of `slots` (rows of `width` entries) holds `value`. */
export function recentHas(slots: Int32Array, row: number, width: number, value: number): boolean {
  for (let p = row * width; p < (row + 1) * width; p++) if (slots[p] === value) return true;
  return false;
}
