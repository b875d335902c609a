import { growI32 } from '../core/arrays.js';
import type { TopK } from '../core/topk.js';
import { dot } from './vec.js';

/** IvfLists.where value of a row kept outside the cells (its norm outgrew the sphere) */
export const OVERFLOW = -2;
const EMPTY_F32 = new Float32Array(0);
const EMPTY_U8 = new Uint8Array(0);

/**
 * The inverted lists of IvfIndex: each cell's members with their stored rows (flat) or codes
 * (sq8, PQ), where every item is (cell and slot), and the rows waiting outside the cells.
 * Removing a member moves the cell's last member into its slot, so lists stay dense.
 */
export class IvfLists {
  len = new Int32Array(0);
  ids: Int32Array[] = [];
  vecs: Float32Array[] = [];
  codes: Uint8Array[] = [];
  count = 0;
  /** rows whose norm grew past the sphere since the last build or recenter */
  overflow = new Int32Array(16);
  overflowLen = 0;
  private itemList = new Int32Array(0);
  private itemSlot = new Int32Array(0);

  /** width: floats per stored row (flat) or bytes of codes per row (coded). */
  constructor(
    private readonly width: number,
    private readonly coded: boolean,
  ) {}

  /** Empty lists with room for sizes[c] members in cell c (it keeps `sizes`), items [0, n). */
  allocate(sizes: Int32Array, n: number): void {
    this.ids = [];
    this.vecs = [];
    this.codes = [];
    for (let c = 0; c < sizes.length; c++) {
      const cap = Math.max(4, sizes[c]);
      this.ids.push(new Int32Array(cap));
      this.vecs.push(this.coded ? EMPTY_F32 : new Float32Array(cap * this.width));
      this.codes.push(this.coded ? new Uint8Array(cap * this.width) : EMPTY_U8);
    }
    sizes.fill(0);
    this.len = sizes;
    this.itemList = new Int32Array(n).fill(-1);
    this.itemSlot = new Int32Array(n).fill(-1);
    this.count = 0;
  }

  /** The cell an item is in; -1 when absent, OVERFLOW while it waits outside the cells. */
  where(item: number): number {
    return item < this.itemList.length ? this.itemList[item] : -1;
  }

  /** Room for items [0, n). */
  ensureItems(n: number): void {
    if (n <= this.itemList.length) return;
    const old = this.itemList.length;
    this.itemList = growI32(this.itemList, n);
    this.itemSlot = growI32(this.itemSlot, n);
    this.itemList.fill(-1, old);
    this.itemSlot.fill(-1, old);
  }

  /** Appends `item` to cell c with its stored row (flat) or its codes. */
  place(item: number, c: number, row: Float32Array | Uint8Array): void {
    const W = this.width;
    let len = this.len[c];
    if (len === this.ids[c].length) {
      const ids = new Int32Array(len * 2);
      ids.set(this.ids[c]);
      this.ids[c] = ids;
      if (this.coded) {
        const codes = new Uint8Array(len * 2 * W);
        codes.set(this.codes[c]);
        this.codes[c] = codes;
      } else {
        const vecs = new Float32Array(len * 2 * W);
        vecs.set(this.vecs[c]);
        this.vecs[c] = vecs;
      }
    }
    this.ids[c][len] = item;
    this.store(c, len, row);
    this.itemList[item] = c;
    this.itemSlot[item] = len;
    this.len[c] = ++len;
    this.count++;
  }

  /** Replaces the stored row or codes of an item that stays in its cell. */
  rewrite(item: number, row: Float32Array | Uint8Array): void {
    this.store(this.itemList[item], this.itemSlot[item], row);
  }

  private store(c: number, slot: number, row: Float32Array | Uint8Array): void {
    if (this.coded) this.codes[c].set(row, slot * this.width);
    else this.vecs[c].set(row, slot * this.width);
  }

  /** Keeps `item` outside the cells, scored exactly by every query. */
  addOverflow(item: number): void {
    if (this.overflowLen === this.overflow.length)
      this.overflow = growI32(this.overflow, this.overflowLen + 1);
    this.itemList[item] = OVERFLOW;
    this.itemSlot[item] = this.overflowLen;
    this.overflow[this.overflowLen++] = item;
    this.count++;
  }

  /** Removes an item (no-op when absent); the cell's last member takes its slot. */
  remove(item: number): void {
    if (item >= this.itemList.length || this.itemList[item] === -1) return;
    const c = this.itemList[item];
    if (c === OVERFLOW) {
      const s = this.itemSlot[item];
      const moved = this.overflow[--this.overflowLen];
      this.overflow[s] = moved;
      this.itemSlot[moved] = s;
      this.itemList[item] = -1;
      this.itemSlot[item] = -1;
      this.count--;
      return;
    }
    const s = this.itemSlot[item];
    const last = --this.len[c];
    if (s !== last) {
      const W = this.width;
      const moved = this.ids[c][last];
      this.ids[c][s] = moved;
      if (this.coded) this.codes[c].copyWithin(s * W, last * W, (last + 1) * W);
      else this.vecs[c].copyWithin(s * W, last * W, (last + 1) * W);
      this.itemSlot[moved] = s;
    }
    this.itemList[item] = -1;
    this.itemSlot[item] = -1;
    this.count--;
  }

  /** Every member, cell by cell, then the overflow rows. */
  members(): Int32Array {
    const ids = new Int32Array(this.count);
    let n = 0;
    for (let c = 0; c < this.len.length; c++)
      for (let t = 0; t < this.len[c]; t++) ids[n++] = this.ids[c][t];
    for (let t = 0; t < this.overflowLen; t++) ids[n++] = this.overflow[t];
    return ids;
  }

  /** Forgets every member and keeps the lists' memory (recenter places them all again). */
  clear(): void {
    this.overflowLen = 0;
    this.len.fill(0);
    this.itemList.fill(-1);
    this.itemSlot.fill(-1);
    this.count = 0;
  }

  /** Bytes held, and the shortest and longest list. */
  stats(): { bytes: number; min: number; max: number } {
    let bytes = this.len.byteLength + this.itemList.byteLength + this.itemSlot.byteLength;
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (let c = 0; c < this.len.length; c++) {
      bytes += this.ids[c].byteLength + this.vecs[c].byteLength + this.codes[c].byteLength;
      if (this.len[c] < min) min = this.len[c];
      if (this.len[c] > max) max = this.len[c];
    }
    return { bytes, min, max };
  }
}

/** Exact q·x over the stored rows of the first m cells of `probeIds`; returns items scanned. */
export function scanFlat(
  lists: IvfLists,
  probeIds: Int32Array,
  m: number,
  qb: Float32Array,
  D: number,
  out: TopK,
  skip?: (item: number) => boolean,
): number {
  let scanned = 0;
  for (let p = 0; p < m; p++) {
    const c = probeIds[p];
    const n = lists.len[c];
    const ids = lists.ids[c];
    const v = lists.vecs[c];
    scanned += n;
    for (let t = 0; t < n; t++) {
      const s = dot(v, t * D, qb, 0, D);
      const id = ids[t];
      if (out.accepts(id, s) && (skip === undefined || !skip(id))) out.push(id, s);
    }
  }
  return scanned;
}
