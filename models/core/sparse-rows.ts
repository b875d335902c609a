import { growI32 } from './arrays.js';
import { PAGE, Slab, offsetOf, pageOf } from './slab.js';
import type { SnapshotReader, SnapshotWriter } from './snapshot.js';
import { loadRows, saveRows } from './sparse-rows-codec.js';
import { EMPTY, S } from './sparse-rows-layout.js';

const HASH = 0x9e3779b1;

/**
 * A sparse, growable square matrix of non-negative weights (row item -> column item), each row
 * an open-addressing hash table, plus each row's top-`m` columns kept sorted at all times.
 *
 * Reading a whole row costs its capacity, and popular items co-occur with most of the
 * catalogue, so recommend() reads only the top lists. Weights only ever grow (decay is a global
 * rescale), so a column can only enter a top list through its own update: checking the updated
 * column against the list's last entry keeps every list exact in O(1) amortised per update,
 * with no periodic rebuilds.
 *
 * Column, weight and top-list position are interleaved per slot (and id, weight and slot per top
 * list entry): an update then touches one cache line instead of three arrays. Tables and top
 * lists are regions of one Slab (issue 12): most items have a table of 8 slots and a short list,
 * and two typed arrays of their own per item cost about 600 B more than the data.
 */
export class SparseRows {
  // Not private, still internal: the snapshot codec (sparse-rows-codec.ts) works on them in place.
  slab = new Slab();
  /** per row: page and word offset of its hash table, and its capacity in slots (a power of 2) */
  tPage = new Int32Array(0);
  tOff = new Int32Array(0);
  tCap = new Int32Array(0);
  nnz = new Int32Array(0);
  /**
   * per row: the top list [column, weight, slot] sorted by (weight desc, column asc), at page
   * lPage, offset lOff, room for lCap entries. Bound: topM entries (the lists grow by doubling
   * up to it). The hash table holds at most maxCols columns (see prune).
   */
  lPage = new Int32Array(0);
  lOff = new Int32Array(0);
  private lCap = new Int32Array(0);
  topLen = new Int32Array(0);
  rows = 0;
  /** scratch weights for prune(); bound: maxCols */
  private pruneW = new Float32Array(0);

  /**
   * @param topM the top list's length per row
   * @param maxCols columns a row's hash table keeps at most (>= 2 topM); beyond it the row keeps
   *   its heaviest half (see prune)
   */
  constructor(
    readonly topM: number,
    readonly maxCols: number = Math.max(4 * topM, 64),
  ) {
    if (!(topM >= 1 && topM <= 1 << 20)) {
      throw new RangeError(`neighbours per item must be 1..${1 << 20}, got ${topM}`);
    }
    // at least twice the top list, so a prune always frees room
    if (!(Number.isInteger(maxCols) && maxCols >= 2 * topM && maxCols <= 1 << 24)) {
      throw new RangeError(`pairs per item must be ${2 * topM}..${1 << 24}, got ${maxCols}`);
    }
  }

  ensureRows(n: number): void {
    if (n <= this.rows) return;
    this.tPage = growI32(this.tPage, n);
    this.tOff = growI32(this.tOff, n);
    this.tCap = growI32(this.tCap, n);
    this.nnz = growI32(this.nnz, n);
    this.lPage = growI32(this.lPage, n);
    this.lOff = growI32(this.lOff, n);
    this.lCap = growI32(this.lCap, n);
    this.topLen = growI32(this.topLen, n);
    for (let r = this.rows; r < n; r++) this.newTable(r, 8);
    this.rows = n;
  }

  /** Gives row r an empty table of `cap` slots (the old one, if any, is the caller's). */
  newTable(r: number, cap: number): void {
    const at = this.slab.alloc(cap * S);
    const p = pageOf(at);
    const o = offsetOf(at);
    this.slab.i[p].fill(EMPTY, o, o + cap * S);
    this.tPage[r] = p;
    this.tOff[r] = o;
    this.tCap[r] = cap;
  }

  /** Adds w (>= 0) to (row, col). */
  add(row: number, col: number, w: number): void {
    const s = this.slotFor(row, col);
    const slab = this.slab;
    const tb = this.tOff[row] + s * S;
    const v = (slab.f[this.tPage[row]][tb + 1] += w);
    const pos = slab.i[this.tPage[row]][tb + 2];
    const li = slab.i[this.lPage[row]];
    const lf = slab.f[this.lPage[row]];
    const lb = this.lOff[row];
    if (pos >= 0) {
      lf[lb + pos * S + 1] = v;
      // the common case: still ranked below its predecessor, nothing moves
      if (pos > 0 && !(v >= lf[lb + (pos - 1) * S + 1])) return;
      this.bubbleUp(row, pos);
      return;
    }
    const len = this.topLen[row];
    if (len < this.topM) {
      if (len === this.lCap[row]) this.growTop(row, len);
      this.place(row, len, col, v, s);
      this.topLen[row] = len + 1;
      this.bubbleUp(row, len);
      return;
    }
    const last = lb + (len - 1) * S;
    const lv = lf[last + 1];
    if (v > lv || (v === lv && col < li[last])) {
      slab.i[this.tPage[row]][this.tOff[row] + li[last + 2] * S + 2] = -1;
      this.place(row, len - 1, col, v, s);
      this.bubbleUp(row, len - 1);
    }
  }

  /**
   * Most items have a handful of neighbours: a top list starts at 4 entries and doubles up to
   * topM instead of reserving topM (80 in the hybrid: 960 bytes) for every item with one pair.
   */
  private growTop(row: number, len: number): void {
    this.moveTop(row, len, Math.min(this.topM, Math.max(4, 2 * len)));
  }

  /** Moves row's top list (its first len entries) to a new region with room for cap entries. */
  moveTop(row: number, len: number, cap: number): void {
    const slab = this.slab;
    const at = slab.alloc(cap * S);
    const p = pageOf(at);
    const o = offsetOf(at);
    const old = this.lCap[row];
    if (old > 0) {
      const op = this.lPage[row];
      const oo = this.lOff[row];
      // int views copy the float words bit for bit
      slab.i[p].set(slab.i[op].subarray(oo, oo + len * S), o);
      slab.release(op * PAGE + oo, old * S);
    }
    this.lPage[row] = p;
    this.lOff[row] = o;
    this.lCap[row] = cap;
  }

  place(row: number, pos: number, col: number, v: number, slot: number): void {
    const slab = this.slab;
    const lp = this.lPage[row];
    const e = this.lOff[row] + pos * S;
    slab.i[lp][e] = col;
    slab.f[lp][e + 1] = v;
    slab.i[lp][e + 2] = slot;
    slab.i[this.tPage[row]][this.tOff[row] + slot * S + 2] = pos;
  }

  /** Moves the entry at `pos` toward the front while it outranks its predecessor. */
  private bubbleUp(row: number, pos: number): void {
    const slab = this.slab;
    const li = slab.i[this.lPage[row]];
    const lf = slab.f[this.lPage[row]];
    const lb = this.lOff[row];
    const ti = slab.i[this.tPage[row]];
    const tb = this.tOff[row];
    const col = li[lb + pos * S];
    const v = lf[lb + pos * S + 1];
    const slot = li[lb + pos * S + 2];
    let p = pos;
    while (p > 0) {
      const q = lb + (p - 1) * S;
      const pv = lf[q + 1];
      if (!(v > pv || (v === pv && col < li[q]))) break;
      const e = lb + p * S;
      li[e] = li[q];
      lf[e + 1] = pv;
      li[e + 2] = li[q + 2];
      ti[tb + li[q + 2] * S + 2] = p;
      p--;
    }
    if (p !== pos) {
      const e = lb + p * S;
      li[e] = col;
      lf[e + 1] = v;
      li[e + 2] = slot;
      ti[tb + slot * S + 2] = p;
    }
  }

  /** The slot of (row, col), inserting it with weight 0 if absent. */
  slotFor(row: number, col: number): number {
    for (;;) {
      const ti = this.slab.i[this.tPage[row]];
      const tb = this.tOff[row];
      const cap = this.tCap[row];
      const mask = cap - 1;
      let h = Math.imul(col, HASH) >>> 0;
      for (;;) {
        const s = h & mask;
        const k = ti[tb + s * S];
        if (k === col) return s;
        if (k === EMPTY) {
          if (this.nnz[row] >= this.maxCols) {
            this.prune(row);
            break;
          }
          if ((this.nnz[row] + 1) * 4 > cap * 3) {
            this.grow(row);
            break;
          }
          ti[tb + s * S] = col;
          this.slab.f[this.tPage[row]][tb + s * S + 1] = 0;
          ti[tb + s * S + 2] = -1;
          this.nnz[row]++;
          return s;
        }
        h++;
      }
    }
  }

  get(row: number, col: number): number {
    if (row >= this.rows) return 0;
    const ti = this.slab.i[this.tPage[row]];
    const tb = this.tOff[row];
    const mask = this.tCap[row] - 1;
    let h = Math.imul(col, HASH) >>> 0;
    for (;;) {
      const s = h & mask;
      const k = ti[tb + s * S];
      if (k === col) return this.slab.f[this.tPage[row]][tb + s * S + 1];
      if (k === EMPTY) return 0;
      h++;
    }
  }

  private grow(row: number): void {
    const slab = this.slab;
    const op = this.tPage[row];
    const ob = this.tOff[row];
    const oldCap = this.tCap[row];
    this.newTable(row, oldCap * 2);
    const oi = slab.i[op];
    const of = slab.f[op];
    const ti = slab.i[this.tPage[row]];
    const tf = slab.f[this.tPage[row]];
    const tb = this.tOff[row];
    const li = slab.i[this.lPage[row]];
    const lb = this.lOff[row];
    const mask = oldCap * 2 - 1;
    for (let s = 0; s < oldCap; s++) {
      const col = oi[ob + s * S];
      if (col === EMPTY) continue;
      let h = Math.imul(col, HASH) >>> 0;
      while (ti[tb + (h & mask) * S] !== EMPTY) h++;
      const ns = h & mask;
      ti[tb + ns * S] = col;
      tf[tb + ns * S + 1] = of[ob + s * S + 1];
      const pos = oi[ob + s * S + 2];
      ti[tb + ns * S + 2] = pos;
      if (pos >= 0) li[lb + pos * S + 2] = ns;
    }
    slab.release(op * PAGE + ob, oldCap * S);
  }

  /**
   * Bounds a full row (issue 11): keeps its top list and the heaviest other columns up to half
   * of maxCols, in a fresh table of the same capacity. Weights are in the decay clock's inflated
   * units, so "heaviest" means most decayed mass: a pair that stopped co-occurring fades out
   * and makes room. A dropped pair that comes back starts again from zero; only pairs lighter
   * than the row's median non-top pair are dropped, far below its top list, so recommend(),
   * which reads only top lists, changes only where such a pair would later have climbed into
   * one. Amortised O(1) per insert: maxCols / 2 inserts between prunes of O(maxCols log).
   */
  private prune(row: number): void {
    const slab = this.slab;
    const op = this.tPage[row];
    const ob = this.tOff[row];
    const cap = this.tCap[row];
    const oi = slab.i[op];
    const of = slab.f[op];
    const keepOthers = Math.max(0, (this.maxCols >> 1) - this.topLen[row]);
    if (this.pruneW.length < cap) this.pruneW = new Float32Array(cap);
    const ws = this.pruneW;
    let n = 0;
    for (let s = 0; s < cap; s++) {
      if (oi[ob + s * S] !== EMPTY && oi[ob + s * S + 2] < 0) ws[n++] = of[ob + s * S + 1];
    }
    // the keepOthers-th largest weight; ties at it are kept in slot order up to the count
    const sorted = ws.subarray(0, n).sort();
    const cut = keepOthers > 0 ? sorted[n - keepOthers] : Infinity;
    let above = 0;
    for (let x = n - keepOthers; x < n; x++) if (sorted[x] > cut) above++;
    let tiesLeft = keepOthers - above;
    this.newTable(row, cap);
    const ti = slab.i[this.tPage[row]];
    const tf = slab.f[this.tPage[row]];
    const tb = this.tOff[row];
    const li = slab.i[this.lPage[row]];
    const lb = this.lOff[row];
    const mask = cap - 1;
    let kept = 0;
    for (let s = 0; s < cap; s++) {
      const col = oi[ob + s * S];
      if (col === EMPTY) continue;
      const w = of[ob + s * S + 1];
      const pos = oi[ob + s * S + 2];
      if (pos < 0) {
        if (w < cut) continue;
        if (w === cut) {
          if (tiesLeft === 0) continue;
          tiesLeft--;
        }
      }
      let h = Math.imul(col, HASH) >>> 0;
      while (ti[tb + (h & mask) * S] !== EMPTY) h++;
      const ns = h & mask;
      ti[tb + ns * S] = col;
      tf[tb + ns * S + 1] = w;
      ti[tb + ns * S + 2] = pos;
      if (pos >= 0) li[lb + pos * S + 2] = ns;
      kept++;
    }
    this.nnz[row] = kept;
    slab.release(op * PAGE + ob, cap * S);
  }

  /** Multiplies every weight (decay rescaling). */
  scale(f: number): void {
    const slab = this.slab;
    for (let r = 0; r < this.rows; r++) {
      const tf = slab.f[this.tPage[r]];
      const ti = slab.i[this.tPage[r]];
      const tb = this.tOff[r];
      const end = tb + this.tCap[r] * S;
      for (let s = tb; s < end; s += S) if (ti[s] !== EMPTY) tf[s + 1] *= f;
      const n = this.topLen[r];
      if (n === 0) continue;
      const lf = slab.f[this.lPage[r]];
      const lb = this.lOff[r];
      // rounding may create ties; re-establish the (weight desc, column asc) order
      for (let p = 0; p < n; p++) {
        lf[lb + p * S + 1] *= f;
        this.bubbleUp(r, p);
      }
    }
  }

  /** Length of row's top list. */
  top(row: number): number {
    return row < this.rows ? this.topLen[row] : 0;
  }

  /**
   * The top list of `row` as int and float views with stride TOP_STRIDE, starting at
   * topBase(row): entry t has its column at ints[topBase + t * TOP_STRIDE] and its weight at
   * floats[topBase + t * TOP_STRIDE + 1]. Valid until the next add() (only for rows whose list
   * is not empty).
   */
  topInts(row: number): Int32Array {
    return this.slab.i[this.lPage[row]];
  }

  topFloats(row: number): Float32Array {
    return this.slab.f[this.lPage[row]];
  }

  topBase(row: number): number {
    return this.lOff[row];
  }

  save(w: SnapshotWriter): void {
    saveRows(this, w);
  }

  load(r: SnapshotReader): void {
    loadRows(this, r);
  }

  /** Drops every row; a fresh slab, so the old regions go with it. */
  clear(): void {
    this.slab = new Slab();
    this.rows = 0;
    this.tPage = new Int32Array(0);
    this.tOff = new Int32Array(0);
    this.tCap = new Int32Array(0);
    this.nnz = new Int32Array(0);
    this.lPage = new Int32Array(0);
    this.lOff = new Int32Array(0);
    this.lCap = new Int32Array(0);
    this.topLen = new Int32Array(0);
  }
}

/** Stride of the views returned by topInts()/topFloats(). */
export const TOP_STRIDE = S;
