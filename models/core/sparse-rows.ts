import { growI32 } from './arrays.js';
import type { SnapshotReader, SnapshotWriter } from './snapshot.js';

const EMPTY = -1;
const HASH = 0x9e3779b1;
/** Slot layout: [column, weight (float bits), position in the top list or -1]. */
const S = 3;

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
 * Column, weight and top-list position share one interleaved buffer per row (and id, weight and
 * slot one per top list): an update then touches one cache line instead of three arrays.
 */
export class SparseRows {
  /** per row: the hash table, as int and float views of one buffer */
  private ti: Int32Array[] = [];
  private tf: Float32Array[] = [];
  private nnz = new Int32Array(0);
  /**
   * per row: the top list [column, weight, slot] sorted by (weight desc, column asc). Bound: topM
   * entries (the lists grow by doubling up to it); the hash table is unbounded per row.
   */
  private li: Int32Array[] = [];
  private lf: Float32Array[] = [];
  private topLen = new Int32Array(0);
  private rows = 0;

  constructor(readonly topM: number) {
    if (!(topM >= 1 && topM <= 1 << 20)) {
      throw new RangeError(`neighbours per item must be 1..${1 << 20}, got ${topM}`);
    }
  }

  ensureRows(n: number): void {
    if (n <= this.rows) return;
    this.nnz = growI32(this.nnz, n);
    this.topLen = growI32(this.topLen, n);
    for (let r = this.rows; r < n; r++) {
      const buf = new ArrayBuffer(8 * S * 4);
      this.ti.push(new Int32Array(buf).fill(EMPTY));
      this.tf.push(new Float32Array(buf));
      this.li.push(EMPTY_I32);
      this.lf.push(EMPTY_F32);
    }
    this.rows = n;
  }

  /** Adds w (>= 0) to (row, col). */
  add(row: number, col: number, w: number): void {
    const s = this.slotFor(row, col);
    const tf = this.tf[row];
    const v = (tf[s * S + 1] += w);
    const pos = this.ti[row][s * S + 2];
    const lf = this.lf[row];
    if (pos >= 0) {
      lf[pos * S + 1] = v;
      // the common case: still ranked below its predecessor, nothing moves
      if (pos > 0 && !(v >= lf[(pos - 1) * S + 1])) return;
      this.bubbleUp(row, pos);
      return;
    }
    const len = this.topLen[row];
    if (len < this.topM) {
      if (len * S === this.li[row].length) this.growTop(row, len);
      this.place(row, len, col, v, s);
      this.topLen[row] = len + 1;
      this.bubbleUp(row, len);
      return;
    }
    const last = len - 1;
    const lv = lf[last * S + 1];
    if (v > lv || (v === lv && col < this.li[row][last * S])) {
      this.ti[row][this.li[row][last * S + 2] * S + 2] = -1;
      this.place(row, last, col, v, s);
      this.bubbleUp(row, last);
    }
  }

  /**
   * Most items have a handful of neighbours: a top list starts at 4 entries and doubles up to
   * topM instead of reserving topM (80 in the hybrid: 960 bytes) for every item with one pair.
   */
  private growTop(row: number, len: number): void {
    const buf = new ArrayBuffer(Math.min(this.topM, Math.max(4, 2 * len)) * S * 4);
    const li = new Int32Array(buf);
    li.set(this.li[row].subarray(0, len * S));
    this.li[row] = li;
    this.lf[row] = new Float32Array(buf);
  }

  private place(row: number, pos: number, col: number, v: number, slot: number): void {
    const li = this.li[row];
    li[pos * S] = col;
    this.lf[row][pos * S + 1] = v;
    li[pos * S + 2] = slot;
    this.ti[row][slot * S + 2] = pos;
  }

  /** Moves the entry at `pos` toward the front while it outranks its predecessor. */
  private bubbleUp(row: number, pos: number): void {
    const li = this.li[row];
    const lf = this.lf[row];
    const ti = this.ti[row];
    const col = li[pos * S];
    const v = lf[pos * S + 1];
    const slot = li[pos * S + 2];
    let p = pos;
    while (p > 0) {
      const q = (p - 1) * S;
      const pv = lf[q + 1];
      if (!(v > pv || (v === pv && col < li[q]))) break;
      li[p * S] = li[q];
      lf[p * S + 1] = pv;
      li[p * S + 2] = li[q + 2];
      ti[li[q + 2] * S + 2] = p;
      p--;
    }
    if (p !== pos) {
      li[p * S] = col;
      lf[p * S + 1] = v;
      li[p * S + 2] = slot;
      ti[slot * S + 2] = p;
    }
  }

  /** The slot of (row, col), inserting it with weight 0 if absent. */
  private slotFor(row: number, col: number): number {
    for (;;) {
      const ti = this.ti[row];
      const cap = ti.length / S;
      const mask = cap - 1;
      let h = Math.imul(col, HASH) >>> 0;
      for (;;) {
        const s = h & mask;
        const k = ti[s * S];
        if (k === col) return s;
        if (k === EMPTY) {
          if ((this.nnz[row] + 1) * 4 > cap * 3) break;
          ti[s * S] = col;
          this.tf[row][s * S + 1] = 0;
          ti[s * S + 2] = -1;
          this.nnz[row]++;
          return s;
        }
        h++;
      }
      this.grow(row);
    }
  }

  get(row: number, col: number): number {
    if (row >= this.rows) return 0;
    const ti = this.ti[row];
    const mask = ti.length / S - 1;
    let h = Math.imul(col, HASH) >>> 0;
    for (;;) {
      const s = h & mask;
      const k = ti[s * S];
      if (k === col) return this.tf[row][s * S + 1];
      if (k === EMPTY) return 0;
      h++;
    }
  }

  private grow(row: number): void {
    const oi = this.ti[row];
    const of = this.tf[row];
    const oldCap = oi.length / S;
    const cap = oldCap * 2;
    const buf = new ArrayBuffer(cap * S * 4);
    const ti = new Int32Array(buf).fill(EMPTY);
    const tf = new Float32Array(buf);
    const li = this.li[row];
    const mask = cap - 1;
    for (let s = 0; s < oldCap; s++) {
      const col = oi[s * S];
      if (col === EMPTY) continue;
      let h = Math.imul(col, HASH) >>> 0;
      while (ti[(h & mask) * S] !== EMPTY) h++;
      const ns = h & mask;
      ti[ns * S] = col;
      tf[ns * S + 1] = of[s * S + 1];
      const pos = oi[s * S + 2];
      ti[ns * S + 2] = pos;
      if (pos >= 0) li[pos * S + 2] = ns;
    }
    this.ti[row] = ti;
    this.tf[row] = tf;
  }

  /** Multiplies every weight (decay rescaling). */
  scale(f: number): void {
    for (let r = 0; r < this.rows; r++) {
      const tf = this.tf[r];
      const ti = this.ti[r];
      for (let s = 0; s < tf.length; s += S) if (ti[s] !== EMPTY) tf[s + 1] *= f;
      const lf = this.lf[r];
      const n = this.topLen[r];
      // rounding may create ties; re-establish the (weight desc, column asc) order
      for (let p = 0; p < n; p++) {
        lf[p * S + 1] *= f;
        this.bubbleUp(r, p);
      }
    }
  }

  /** Length of row's top list. */
  top(row: number): number {
    return row < this.rows ? this.topLen[row] : 0;
  }

  /**
   * The top list of `row` as int and float views with stride TOP_STRIDE: entry t has its
   * column at ints[t * TOP_STRIDE] and its weight at floats[t * TOP_STRIDE + 1]. Valid until
   * the next add().
   */
  topInts(row: number): Int32Array {
    return this.li[row];
  }

  topFloats(row: number): Float32Array {
    return this.lf[row];
  }

  save(w: SnapshotWriter): void {
    // CSR (independent of hash layout) plus the top lists, which are restored verbatim
    let total = 0;
    let totalTop = 0;
    for (let r = 0; r < this.rows; r++) {
      total += this.nnz[r];
      totalTop += this.topLen[r];
    }
    const ptr = new Int32Array(this.rows + 1);
    const cols = new Int32Array(total);
    const ws = new Float32Array(total);
    const tptr = new Int32Array(this.rows + 1);
    const tcols = new Int32Array(totalTop);
    let o = 0;
    let t = 0;
    for (let r = 0; r < this.rows; r++) {
      ptr[r] = o;
      const ti = this.ti[r];
      const from = o;
      for (let s = 0; s < ti.length; s += S) if (ti[s] !== EMPTY) cols[o++] = ti[s];
      // column order, not hash order: equal states give byte-equal snapshots
      cols.subarray(from, o).sort();
      for (let x = from; x < o; x++) ws[x] = this.get(r, cols[x]);
      tptr[r] = t;
      for (let p = 0; p < this.topLen[r]; p++) tcols[t++] = this.li[r][p * S];
    }
    ptr[this.rows] = o;
    tptr[this.rows] = t;
    w.set('rows', this.rows);
    w.set('topM', this.topM);
    w.array('ptr', ptr);
    w.array('cols', cols);
    w.array('w', ws);
    w.array('tptr', tptr);
    w.array('tcols', tcols);
  }

  load(r: SnapshotReader): void {
    if (r.num('topM') !== this.topM) {
      throw new Error(`snapshot keeps ${r.num('topM')} neighbours, model ${this.topM}`);
    }
    const rows = r.num('rows');
    const ptr = r.i32('ptr');
    const cols = r.i32('cols');
    const ws = r.f32('w');
    const tptr = r.i32('tptr');
    const tcols = r.i32('tcols');
    this.ti = [];
    this.tf = [];
    this.li = [];
    this.lf = [];
    this.nnz = new Int32Array(0);
    this.topLen = new Int32Array(0);
    this.rows = 0;
    this.ensureRows(rows);
    for (let row = 0; row < rows; row++) {
      for (let o = ptr[row]; o < ptr[row + 1]; o++) {
        // slotFor may grow the row and replace its arrays: look them up after it
        const slot = this.slotFor(row, cols[o]);
        this.tf[row][slot * S + 1] = ws[o];
      }
      const n = tptr[row + 1] - tptr[row];
      if (n === 0) continue;
      const buf = new ArrayBuffer(n * S * 4);
      this.li[row] = new Int32Array(buf);
      this.lf[row] = new Float32Array(buf);
      for (let p = 0; p < n; p++) {
        const col = tcols[tptr[row] + p];
        const s = this.slotFor(row, col);
        this.place(row, p, col, this.tf[row][s * S + 1], s);
      }
      this.topLen[row] = n;
    }
  }
}

/** Stride of the views returned by topInts()/topFloats(). */
export const TOP_STRIDE = S;

const EMPTY_I32 = new Int32Array(0);
const EMPTY_F32 = new Float32Array(0);
