import { growI32 } from './arrays.js';
import type { SnapshotReader, SnapshotWriter } from './snapshot.js';

const EMPTY = -1;
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
 */
export class SparseRows {
  private keys: Int32Array[] = [];
  private vals: Float32Array[] = [];
  /** per slot: position in the row's top list, or -1 */
  private topPos: Int16Array[] = [];
  private nnz = new Int32Array(0);
  /** per row, sorted by (weight desc, column asc) */
  private topIds: Int32Array[] = [];
  private topVals: Float32Array[] = [];
  /** per top position: the hash slot holding that column */
  private topSlot: Int32Array[] = [];
  private topLen = new Int32Array(0);
  private rows = 0;

  constructor(readonly topM: number) {
    if (!(topM >= 1 && topM <= 32767))
      throw new RangeError(`neighbours per item must be 1..32767, got ${topM}`);
  }

  ensureRows(n: number): void {
    if (n <= this.rows) return;
    this.nnz = growI32(this.nnz, n);
    this.topLen = growI32(this.topLen, n);
    for (let r = this.rows; r < n; r++) {
      this.keys.push(new Int32Array(8).fill(EMPTY));
      this.vals.push(new Float32Array(8));
      this.topPos.push(new Int16Array(8).fill(-1));
      this.topIds.push(EMPTY_I32);
      this.topVals.push(EMPTY_F32);
      this.topSlot.push(EMPTY_I32);
    }
    this.rows = n;
  }

  /** Adds w (>= 0) to (row, col). */
  add(row: number, col: number, w: number): void {
    const s = this.slotFor(row, col);
    const v = (this.vals[row][s] += w);
    const pos = this.topPos[row][s];
    if (pos >= 0) {
      this.topVals[row][pos] = v;
      this.bubbleUp(row, pos);
      return;
    }
    const len = this.topLen[row];
    if (len < this.topM) {
      if (this.topIds[row].length === 0) {
        this.topIds[row] = new Int32Array(this.topM);
        this.topVals[row] = new Float32Array(this.topM);
        this.topSlot[row] = new Int32Array(this.topM);
      }
      this.place(row, len, col, v, s);
      this.topLen[row] = len + 1;
      this.bubbleUp(row, len);
      return;
    }
    const last = len - 1;
    const lv = this.topVals[row][last];
    if (v > lv || (v === lv && col < this.topIds[row][last])) {
      this.topPos[row][this.topSlot[row][last]] = -1;
      this.place(row, last, col, v, s);
      this.bubbleUp(row, last);
    }
  }

  private place(row: number, pos: number, col: number, v: number, slot: number): void {
    this.topIds[row][pos] = col;
    this.topVals[row][pos] = v;
    this.topSlot[row][pos] = slot;
    this.topPos[row][slot] = pos;
  }

  /** Moves the entry at `pos` toward the front while it outranks its predecessor. */
  private bubbleUp(row: number, pos: number): void {
    const ids = this.topIds[row];
    const tv = this.topVals[row];
    const ts = this.topSlot[row];
    const tp = this.topPos[row];
    const col = ids[pos];
    const v = tv[pos];
    const slot = ts[pos];
    let p = pos;
    while (p > 0) {
      const pv = tv[p - 1];
      if (!(v > pv || (v === pv && col < ids[p - 1]))) break;
      ids[p] = ids[p - 1];
      tv[p] = pv;
      ts[p] = ts[p - 1];
      tp[ts[p]] = p;
      p--;
    }
    if (p !== pos) {
      ids[p] = col;
      tv[p] = v;
      ts[p] = slot;
      tp[slot] = p;
    }
  }

  /** The slot of (row, col), inserting it with weight 0 if absent. */
  private slotFor(row: number, col: number): number {
    for (;;) {
      const keys = this.keys[row];
      const mask = keys.length - 1;
      let h = Math.imul(col, HASH) >>> 0;
      for (;;) {
        const s = h & mask;
        const k = keys[s];
        if (k === col) return s;
        if (k === EMPTY) {
          if ((this.nnz[row] + 1) * 4 > keys.length * 3) break;
          keys[s] = col;
          this.vals[row][s] = 0;
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
    const keys = this.keys[row];
    const mask = keys.length - 1;
    let h = Math.imul(col, HASH) >>> 0;
    for (;;) {
      const s = h & mask;
      const k = keys[s];
      if (k === col) return this.vals[row][s];
      if (k === EMPTY) return 0;
      h++;
    }
  }

  private grow(row: number): void {
    const oldK = this.keys[row];
    const oldV = this.vals[row];
    const oldP = this.topPos[row];
    const cap = oldK.length * 2;
    const keys = new Int32Array(cap).fill(EMPTY);
    const vals = new Float32Array(cap);
    const tp = new Int16Array(cap).fill(-1);
    const ts = this.topSlot[row];
    const mask = cap - 1;
    for (let s = 0; s < oldK.length; s++) {
      const col = oldK[s];
      if (col === EMPTY) continue;
      let h = Math.imul(col, HASH) >>> 0;
      while (keys[h & mask] !== EMPTY) h++;
      const ns = h & mask;
      keys[ns] = col;
      vals[ns] = oldV[s];
      const pos = oldP[s];
      tp[ns] = pos;
      if (pos >= 0) ts[pos] = ns;
    }
    this.keys[row] = keys;
    this.vals[row] = vals;
    this.topPos[row] = tp;
  }

  /** Multiplies every weight (decay rescaling). */
  scale(f: number): void {
    for (let r = 0; r < this.rows; r++) {
      const v = this.vals[r];
      for (let s = 0; s < v.length; s++) v[s] *= f;
      const t = this.topVals[r];
      const n = this.topLen[r];
      // rounding may create ties; re-establish the (weight desc, column asc) order
      for (let p = 0; p < n; p++) {
        t[p] *= f;
        this.bubbleUp(r, p);
      }
    }
  }

  /** Length of row's top list. */
  top(row: number): number {
    return row < this.rows ? this.topLen[row] : 0;
  }

  /** Columns of the top list, best first (valid until the next add). */
  topIdsOf(row: number): Int32Array {
    return this.topIds[row];
  }

  topValsOf(row: number): Float32Array {
    return this.topVals[row];
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
      const keys = this.keys[r];
      const from = o;
      for (let s = 0; s < keys.length; s++) if (keys[s] !== EMPTY) cols[o++] = keys[s];
      // column order, not hash order: equal states give byte-equal snapshots
      cols.subarray(from, o).sort();
      for (let x = from; x < o; x++) ws[x] = this.get(r, cols[x]);
      tptr[r] = t;
      for (let p = 0; p < this.topLen[r]; p++) tcols[t++] = this.topIds[r][p];
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
    if (r.num('topM') !== this.topM)
      throw new Error(`snapshot keeps ${r.num('topM')} neighbours, model ${this.topM}`);
    const rows = r.num('rows');
    const ptr = r.i32('ptr');
    const cols = r.i32('cols');
    const ws = r.f32('w');
    const tptr = r.i32('tptr');
    const tcols = r.i32('tcols');
    this.keys = [];
    this.vals = [];
    this.topPos = [];
    this.topIds = [];
    this.topVals = [];
    this.topSlot = [];
    this.nnz = new Int32Array(0);
    this.topLen = new Int32Array(0);
    this.rows = 0;
    this.ensureRows(rows);
    for (let row = 0; row < rows; row++) {
      for (let o = ptr[row]; o < ptr[row + 1]; o++) {
        // slotFor may grow the row and replace its arrays: look them up after it
        const slot = this.slotFor(row, cols[o]);
        this.vals[row][slot] = ws[o];
      }
      const n = tptr[row + 1] - tptr[row];
      if (n === 0) continue;
      this.topIds[row] = new Int32Array(this.topM);
      this.topVals[row] = new Float32Array(this.topM);
      this.topSlot[row] = new Int32Array(this.topM);
      for (let p = 0; p < n; p++) {
        const col = tcols[tptr[row] + p];
        const s = this.slotFor(row, col);
        this.place(row, p, col, this.vals[row][s], s);
      }
      this.topLen[row] = n;
    }
  }
}

const EMPTY_I32 = new Int32Array(0);
const EMPTY_F32 = new Float32Array(0);
