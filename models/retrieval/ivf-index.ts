import { Rng } from '../core/rng.js';
import { TopK } from '../core/topk.js';
import { RowCodec } from './ivf-codes.js';
import { IVF_DEFAULTS, type IvfOptions, type IvfSettings, type IvfStats } from './ivf-options.js';
import { IvfLists, OVERFLOW, scanFlat } from './ivf-lists.js';
import { CoarseQuantizer } from './ivf-quantizer.js';
import { dist2, dot } from './vec.js';

export type { IvfOptions, IvfStats } from './ivf-options.js';

const EMPTY_F32 = new Float32Array(0);

/**
 * An inverted-file index for top-K inner-product retrieval over rows of a Float32Array (the
 * "source", e.g. MF item factors). A two-level k-means quantizer splits the rows into `nlist`
 * cells (√nlist groups of √nlist cells, so placing one row costs ~2·√nlist distance
 * computations instead of nlist). A query scores every cell centre and scans only the best
 * `nprobe` cells: per query nlist + n·nprobe/nlist item scores instead of n.
 *
 * Rows may change (online factor models): after writing the new row into the source, `upsert`
 * re-codes it and moves it to its now nearest cell; `recenter` moves every centre to the mean
 * of its members and re-places the members. Scores of returned items are always exact q·x
 * against the source as it is at query time.
 */
export class IvfIndex {
  readonly dim: number;
  nprobe: number;
  radiusWeight: number;
  rerank: number;
  /** stored row width: dim, plus the sphere coordinate when mips */
  private readonly D: number;
  /** pq or sq8: cells hold codes, and the source rows are read to re-score */
  private readonly codec: RowCodec | null;
  private readonly o: IvfSettings;
  private source = EMPTY_F32;
  private maxNorm2 = 0;
  private readonly xbuf: Float32Array;
  private readonly qbuf: Float32Array;
  /** the cells: centres, groups, radii and the probe order */
  private readonly cq: CoarseQuantizer;
  /** the cells' members, with their rows or codes */
  private readonly cells: IvfLists;
  probeGroups: number;
  private lastNorm2 = 0;
  private qc = new Float64Array(0);
  private readonly probe = new TopK(64);
  private probeIds = new Int32Array(64);
  private probeScores = new Float64Array(64);
  private readonly approx = new TopK(256);
  private approxIds = new Int32Array(256);
  private approxScores = new Float64Array(256);
  private readonly heap = new TopK(16);
  private readonly rng: Rng;

  constructor(dim: number, opts: IvfOptions = {}) {
    this.dim = dim;
    this.o = {
      ...IVF_DEFAULTS,
      ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
      nlist: opts.nlist ?? 0,
    };
    this.nprobe = this.o.nprobe;
    this.radiusWeight = this.o.radiusWeight;
    this.rerank = this.o.rerank;
    this.probeGroups = this.o.probeGroups;
    this.rng = new Rng(this.o.seed);
    this.D = this.o.mips ? dim + 1 : dim;
    const storage = this.o.storage;
    this.codec = storage === 'flat' ? null : new RowCodec(storage, dim, this.D, this.o.pqSubspaces);
    this.xbuf = new Float32Array(this.D);
    this.qbuf = new Float32Array(this.D);
    this.cq = new CoarseQuantizer(this.D);
    this.cells = new IvfLists(this.codec ? this.codec.M : this.D, this.codec !== null);
  }

  get size(): number {
    return this.cells.count;
  }

  get lists(): number {
    return this.cq.nlist;
  }

  /**
   * Points the index at a new source buffer holding the same rows (an owner that grows its
   * matrix by reallocation calls this; row i must still be at i·dim).
   */
  setSource(source: Float32Array): void {
    this.source = source;
  }

  /** Writes the stored form of source row i into xbuf. */
  private augment(data: Float32Array, xo: number): Float32Array {
    const dim = this.dim;
    const x = this.xbuf;
    let n2 = 0;
    for (let d = 0; d < dim; d++) {
      const v = data[xo + d];
      x[d] = v;
      n2 += v * v;
    }
    this.lastNorm2 = n2;
    if (this.D > dim) x[dim] = this.o.mipsScale * Math.sqrt(Math.max(0, this.maxNorm2 - n2));
    return x;
  }

  /** Trains the quantizers on a sample of rows [0, n) of `source` and inserts all n rows. */
  build(source: Float32Array, n: number): void {
    const D = this.D;
    this.source = source;
    if (D > this.dim) {
      let m2 = 0;
      for (let i = 0; i < n; i++) {
        let s = 0;
        const o = i * this.dim;
        for (let d = 0; d < this.dim; d++) s += source[o + d] * source[o + d];
        if (s > m2) m2 = s;
      }
      this.maxNorm2 = m2;
    }
    const nlist = Math.max(1, Math.min(n, this.o.nlist || Math.round(4 * Math.sqrt(n))));
    const picked = this.sampleRows(n, Math.min(n, Math.max(this.o.trainSample, nlist * 4)));
    // k-means runs on a compact copy of the sample, in stored form
    const data = new Float32Array(picked.length * D);
    for (let t = 0; t < picked.length; t++)
      data.set(this.augment(source, picked[t] * this.dim), t * D);
    this.cq.train(data, picked.length, nlist, this.o.iterations, this.rng);
    const cells = this.cq.nlist;
    this.qc = new Float64Array(cells);
    this.codec?.train(data, picked.length, this.cq, this.o.iterations, this.rng);

    // place every row: sizes first, so each list is allocated once
    const sizes = new Int32Array(cells);
    const cellOf = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = this.assign(this.augment(source, i * this.dim), 0);
      cellOf[i] = c;
      sizes[c]++;
    }
    this.cells.allocate(sizes, n);
    for (let i = 0; i < n; i++) this.place(i, cellOf[i], this.augment(source, i * this.dim));
    this.refreshRadii();
  }

  /** The row as its cell keeps it: its codes (qbuf is free outside search), or itself. */
  private stored(x: Float32Array, c: number): Float32Array | Uint8Array {
    return this.codec ? this.codec.encode(x, c, this.cq.centroids, this.qbuf) : x;
  }

  private sampleRows(n: number, m: number): Int32Array {
    if (m >= n) return Int32Array.from({ length: n }, (_, i) => i);
    // one row from each of m equal strides: uniform, sorted, and no set of seen rows needed
    const out = new Int32Array(m);
    const step = n / m;
    for (let t = 0; t < m; t++)
      out[t] = Math.min(n - 1, Math.floor(t * step + this.rng.next() * step));
    return out;
  }

  private assign(data: Float32Array, xo: number): number {
    return this.cq.assign(data, xo);
  }

  private place(item: number, c: number, x: Float32Array): void {
    this.cells.place(item, c, this.stored(x, c));
  }

  /** Removes an item (no-op when absent); the cell's last member takes its slot. */
  remove(item: number): void {
    this.cells.remove(item);
  }

  /**
   * Adds row `item` of the source, or re-reads it after the owner changed it: it is re-coded
   * and moves to another cell when it now sits nearer that cell's centre. True when it moved
   * (or was added).
   */
  upsert(item: number): boolean {
    if (this.cq.nlist === 0) throw new Error('IvfIndex.upsert before build');
    this.cells.ensureItems(item + 1);
    const x = this.augment(this.source, item * this.dim);
    const cur = this.cells.where(item);
    if (this.D > this.dim && this.lastNorm2 > this.maxNorm2) {
      // off the sphere no cell centre stands for it; it is scored exactly on every query
      // until the next recenter() widens the sphere
      if (cur === OVERFLOW) return false;
      if (cur >= 0) this.remove(item);
      this.cells.addOverflow(item);
      return true;
    }
    const c = this.assign(x, 0);
    if (cur === c) {
      this.cells.rewrite(item, this.stored(x, c));
      return false;
    }
    if (cur >= 0) this.remove(item);
    this.place(item, c, x);
    return true;
  }

  /**
   * Moves every centre to the mean of its members (and every group centre to the mean of its
   * cells), then re-places every member: online updates shift rows gradually, and without this
   * the centres drift away from the rows they stand for. Returns how many rows changed cell.
   */
  recenter(): number {
    const D = this.D;
    const nlist = this.cq.nlist;
    const { len, ids: cellIds } = this.cells;
    const sums = new Float64Array(nlist * D);
    const ids = this.cells.members();
    const n = ids.length;
    if (D > this.dim) {
      // the sphere grows to the largest row now indexed, so the overflow rows rejoin the cells
      for (let t = 0; t < n; t++) {
        this.augment(this.source, ids[t] * this.dim);
        if (this.lastNorm2 > this.maxNorm2) this.maxNorm2 = this.lastNorm2;
      }
    }
    for (let c = 0; c < nlist; c++) {
      for (let t = 0; t < len[c]; t++) {
        const x = this.augment(this.source, cellIds[c][t] * this.dim);
        for (let d = 0; d < D; d++) sums[c * D + d] += x[d];
      }
    }
    this.cq.moveCentres(sums, len);
    if (this.o.storage === 'sq8') {
      const rows = new Float32Array(n * D);
      for (let t = 0; t < n; t++) rows.set(this.augment(this.source, ids[t] * this.dim), t * D);
      this.codec?.followRows(rows, n);
    }
    const before = Int32Array.from(ids, (i) => this.cells.where(i));
    this.cells.clear();
    let moved = 0;
    for (let t = 0; t < n; t++) {
      const x = this.augment(this.source, ids[t] * this.dim);
      const c = this.assign(x, 0);
      if (c !== before[t]) moved++;
      this.place(ids[t], c, x);
    }
    this.refreshRadii();
    return moved;
  }

  private refreshRadii(): void {
    const D = this.D;
    const { nlist, centroids } = this.cq;
    const { len, ids, vecs } = this.cells;
    const radius = new Float32Array(nlist);
    for (let c = 0; c < nlist; c++) {
      const n = len[c];
      let s = 0;
      for (let t = 0; t < n; t++) {
        s += this.codec
          ? dist2(this.augment(this.source, ids[c][t] * this.dim), 0, centroids, c * D, D)
          : dist2(vecs[c], t * D, centroids, c * D, D);
      }
      radius[c] = n > 0 ? Math.sqrt(s / n) : 0;
    }
    this.cq.setRadii(radius);
  }

  /**
   * Offers the top of q·x over the items of the `nprobe` best cells to `out` (the caller resets
   * it; offering to a heap that already holds candidates merges with them). `skip` drops items
   * (e.g. already bought) before they take a slot. Returns the number of items scanned.
   */
  searchInto(
    q: Float32Array,
    qo: number,
    out: TopK,
    nprobe = this.nprobe,
    skip?: (item: number) => boolean,
  ): number {
    const D = this.D;
    const np = Math.min(nprobe, this.cq.nlist);
    if (np === 0) return 0;
    if (np > this.probeIds.length) {
      this.probeIds = new Int32Array(np);
      this.probeScores = new Float64Array(np);
    }
    // the query's sphere coordinate is 0, so q·x over stored rows is the true score
    const qb = this.qbuf;
    let qn = 0;
    for (let d = 0; d < this.dim; d++) {
      qb[d] = q[qo + d];
      qn += qb[d] * qb[d];
    }
    for (let d = this.dim; d < D; d++) qb[d] = 0;
    qn = this.radiusWeight * Math.sqrt(qn);
    const probe = this.probe;
    probe.reset(np);
    this.cq.rankCells(qb, qn, this.probeGroups, this.cells.len, this.qc, probe);
    const m = probe.drain(this.probeIds, this.probeScores);
    const scanned = this.codec
      ? this.scanCoded(this.codec, q, qo, m, out, skip)
      : scanFlat(this.cells, this.probeIds, m, qb, D, out, skip);
    const src = this.source;
    const dim = this.dim;
    const { overflow, overflowLen } = this.cells;
    for (let t = 0; t < overflowLen; t++) {
      const id = overflow[t];
      const s = dot(src, id * dim, q, qo, dim);
      if (out.accepts(id, s) && (skip === undefined || !skip(id))) out.push(id, s);
    }
    return scanned + overflowLen;
  }

  /** Approximate scores rank the candidates; the best `rerank` are scored exactly. */
  private scanCoded(
    codec: RowCodec,
    q: Float32Array,
    qo: number,
    m: number,
    out: TopK,
    skip?: (item: number) => boolean,
  ): number {
    const R = Math.max(this.rerank, out.size);
    if (R > this.approxIds.length) {
      this.approxIds = new Int32Array(R);
      this.approxScores = new Float64Array(R);
    }
    const approx = this.approx;
    approx.reset(R);
    const scanned = codec.scan(this.cells, this.probeIds, m, q, qo, this.qbuf, this.qc, approx);
    // exact scores from the source, which also undoes the quantization error in the order
    const k = approx.drain(this.approxIds, this.approxScores);
    const src = this.source;
    const dim = this.dim;
    for (let t = 0; t < k; t++) {
      const id = this.approxIds[t];
      const s = dot(src, id * dim, q, qo, dim);
      if (out.accepts(id, s) && (skip === undefined || !skip(id))) out.push(id, s);
    }
    return scanned;
  }

  /** searchInto with a fresh heap of k; best first into ids/scores, returns the count. */
  search(
    q: Float32Array,
    k: number,
    ids: Int32Array,
    scores: Float64Array,
    nprobe = this.nprobe,
  ): number {
    this.heap.reset(k);
    this.searchInto(q, 0, this.heap, nprobe);
    return this.heap.drain(ids, scores);
  }

  /** The cell an item is in; -1 when absent, -2 while it waits outside the cells (see upsert). */
  cellOf(item: number): number {
    return this.cells.where(item);
  }

  stats(): IvfStats {
    const nlist = this.cq.nlist;
    const lists = this.cells.stats();
    let bytes = this.cq.bytes() + lists.bytes + this.qc.byteLength;
    bytes += this.codec?.bytes() ?? 0;
    const { min, max } = lists;
    return {
      items: this.cells.count,
      lists: nlist,
      groups: this.cq.ngroups,
      minList: nlist > 0 ? min : 0,
      maxList: max,
      bytes,
    };
  }
}
