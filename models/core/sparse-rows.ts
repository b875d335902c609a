import { growI32 } from './arrays.js';
import type { SnapshotReader, SnapshotWriter } from './snapshot.js';
import { TopK } from './topk.js';

const EMPTY = -1;
const HASH = 0x9e3779b1;

/**
 * A sparse, growable square matrix of float weights (row item -> column item), each row an
 * open-addressing hash table, plus per-row cached top-`m` columns.
 *
 * Reading a whole row costs its capacity, and popular items co-occur with most of the catalogue,
 * so recommend() reads the cached top lists instead. A list is rebuilt lazily when read after
 * its row changed by enough (a fraction of its size), which keeps rebuilding amortised.
 */
export class SparseRows {
  private keys: Int32Array[] = [];
  private vals: Float32Array[] = [];
  private nnz = new Int32Array(0);
  private dirty = new Int32Array(0);
  private topIds: Int32Array[] = [];
  private topVals: Float32Array[] = [];
  private topLen = new Int32Array(0);
  private rows = 0;
  private readonly heap: TopK;
  private readonly heapIds: Int32Array;
  private readonly heapScores: Float64Array;

  constructor(
    readonly topM: number,
    /** rebuild a row's list once it saw more than this fraction of its nnz in updates */
    private readonly staleFraction = 0.1,
  ) {
    this.heap = new TopK(topM);
    this.heapIds = new Int32Array(topM);
    this.heapScores = new Float64Array(topM);
  }

  ensureRows(n: number): void {
    if (n <= this.rows) return;
    this.nnz = growI32(this.nnz, n);
    this.dirty = growI32(this.dirty, n);
    this.topLen = growI32(this.topLen, n);
    for (let r = this.rows; r < n; r++) {
      this.keys.push(new Int32Array(8).fill(EMPTY));
      this.vals.push(new Float32Array(8));
      this.topIds.push(new Int32Array(0));
      this.topVals.push(new Float32Array(0));
    }
    this.rows = n;
  }

  add(row: number, col: number, w: number): void {
    let keys = this.keys[row];
    let mask = keys.length - 1;
    let h = Math.imul(col, HASH) >>> 0;
    for (;;) {
      const s = h & mask;
      const k = keys[s];
      if (k === col) {
        this.vals[row][s] += w;
        this.dirty[row]++;
        return;
      }
      if (k === EMPTY) {
        if ((this.nnz[row] + 1) * 4 > keys.length * 3) {
          this.grow(row);
          keys = this.keys[row];
          mask = keys.length - 1;
          h = Math.imul(col, HASH) >>> 0;
          continue;
        }
        keys[s] = col;
        this.vals[row][s] = w;
        this.nnz[row]++;
        // a new column can enter the top list at once: count it as a full change
        this.dirty[row] += 1 + (this.topLen[row] < this.topM ? this.topM : 0);
        return;
      }
      h++;
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
    const cap = oldK.length * 2;
    const keys = new Int32Array(cap).fill(EMPTY);
    const vals = new Float32Array(cap);
    const mask = cap - 1;
    for (let s = 0; s < oldK.length; s++) {
      const col = oldK[s];
      if (col === EMPTY) continue;
      let h = Math.imul(col, HASH) >>> 0;
      while (keys[h & mask] !== EMPTY) h++;
      keys[h & mask] = col;
      vals[h & mask] = oldV[s];
    }
    this.keys[row] = keys;
    this.vals[row] = vals;
  }

  /** Multiplies every weight (decay rescaling); cached lists scale too, so they stay valid. */
  scale(f: number): void {
    for (let r = 0; r < this.rows; r++) {
      const v = this.vals[r];
      for (let s = 0; s < v.length; s++) v[s] *= f;
      const t = this.topVals[r];
      for (let s = 0; s < t.length; s++) t[s] *= f;
    }
  }

  /** Number of cached columns of `row`, rebuilding the cache first when it is stale. */
  top(row: number): number {
    if (row >= this.rows) return 0;
    if (this.dirty[row] > 0 && this.dirty[row] >= Math.max(1, this.nnz[row] * this.staleFraction)) {
      this.rebuild(row);
    }
    return this.topLen[row];
  }

  /** Valid after top(row); do not keep across calls that may rebuild. */
  topIdsOf(row: number): Int32Array {
    return this.topIds[row];
  }

  topValsOf(row: number): Float32Array {
    return this.topVals[row];
  }

  private rebuild(row: number): void {
    const keys = this.keys[row];
    const vals = this.vals[row];
    const heap = this.heap;
    heap.reset(this.topM);
    for (let s = 0; s < keys.length; s++) {
      const col = keys[s];
      if (col !== EMPTY && heap.accepts(col, vals[s])) heap.push(col, vals[s]);
    }
    const n = heap.drain(this.heapIds, this.heapScores);
    if (this.topIds[row].length < n) {
      this.topIds[row] = new Int32Array(this.topM);
      this.topVals[row] = new Float32Array(this.topM);
    }
    const ids = this.topIds[row];
    const tv = this.topVals[row];
    for (let j = 0; j < n; j++) {
      ids[j] = this.heapIds[j];
      tv[j] = this.heapScores[j];
    }
    this.topLen[row] = n;
    this.dirty[row] = 0;
  }

  save(w: SnapshotWriter): void {
    // rows as CSR (cols + weights): compact and independent of hash layout; the cached lists and
    // their staleness go too, so a restored model ranks exactly like the one that was saved
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
    const tws = new Float32Array(totalTop);
    let o = 0;
    let t = 0;
    for (let r = 0; r < this.rows; r++) {
      ptr[r] = o;
      const keys = this.keys[r];
      const vals = this.vals[r];
      for (let s = 0; s < keys.length; s++) {
        if (keys[s] === EMPTY) continue;
        cols[o] = keys[s];
        ws[o++] = vals[s];
      }
      tptr[r] = t;
      for (let j = 0; j < this.topLen[r]; j++) {
        tcols[t] = this.topIds[r][j];
        tws[t++] = this.topVals[r][j];
      }
    }
    ptr[this.rows] = o;
    tptr[this.rows] = t;
    w.set('rows', this.rows);
    w.array('ptr', ptr);
    w.array('cols', cols);
    w.array('w', ws);
    w.array('tptr', tptr);
    w.array('tcols', tcols);
    w.array('tw', tws);
    w.array('dirty', this.dirty, this.rows);
  }

  load(r: SnapshotReader): void {
    const rows = r.num('rows');
    const ptr = r.i32('ptr');
    const cols = r.i32('cols');
    const ws = r.f32('w');
    const tptr = r.i32('tptr');
    const tcols = r.i32('tcols');
    const tws = r.f32('tw');
    const dirty = r.i32('dirty');
    this.keys = [];
    this.vals = [];
    this.topIds = [];
    this.topVals = [];
    this.nnz = new Int32Array(0);
    this.dirty = new Int32Array(0);
    this.topLen = new Int32Array(0);
    this.rows = 0;
    this.ensureRows(rows);
    for (let row = 0; row < rows; row++) {
      for (let o = ptr[row]; o < ptr[row + 1]; o++) this.add(row, cols[o], ws[o]);
      const n = tptr[row + 1] - tptr[row];
      if (n > 0) {
        this.topIds[row] = new Int32Array(this.topM);
        this.topVals[row] = new Float32Array(this.topM);
        this.topIds[row].set(tcols.subarray(tptr[row], tptr[row + 1]));
        this.topVals[row].set(tws.subarray(tptr[row], tptr[row + 1]));
      }
      this.topLen[row] = n;
      this.dirty[row] = dirty[row];
    }
  }
}
