import type { Rng } from '../core/rng.js';
import type { TopK } from '../core/topk.js';
import type { CoarseQuantizer } from './ivf-quantizer.js';
import { kmeans } from './kmeans.js';
import { dist2, dot } from './vec.js';

/*
 * The compressed forms IvfIndex can keep in its cells instead of vector copies, and the scans
 * over them: sq8 (one byte per dimension on a per-dimension linear scale) and PQ (one byte per
 * subspace: the nearest of 256 codewords for the row's offset from its cell centre). Both only
 * rank candidates; the index re-scores the best exactly from the source rows.
 */

/** Codewords per PQ subspace: one byte per code. */
const CODES = 256;

/** sq8: value of code 0 and the step per code, per dimension (and its inverse). */
export interface Sq8Scale {
  readonly lo: Float32Array;
  readonly step: Float32Array;
  readonly inv: Float32Array;
}

/** sq8: per-dimension range of the sample, with 5% headroom either side for drift. */
export function trainSq8(data: Float32Array, D: number, dim: number, n: number): Sq8Scale {
  const scale = {
    lo: new Float32Array(dim),
    step: new Float32Array(dim),
    inv: new Float32Array(dim),
  };
  for (let d = 0; d < dim; d++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let t = 0; t < n; t++) {
      const v = data[t * D + d];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const pad = 0.05 * (hi - lo);
    const step = (hi - lo + 2 * pad) / 255 || 1;
    scale.lo[d] = lo - pad;
    scale.step[d] = step;
    scale.inv[d] = 1 / step;
  }
  return scale;
}

export function encodeSq8(x: Float32Array, s: Sq8Scale, dim: number, out: Uint8Array): Uint8Array {
  for (let d = 0; d < dim; d++) {
    const v = Math.round((x[d] - s.lo[d]) * s.inv[d]);
    out[d] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/** PQ: subspace m covers stored dims [subStart[m], subStart[m + 1]). */
export interface PqLayout {
  readonly M: number;
  readonly subStart: Int32Array;
}

/** One 256-word codebook per subspace, trained on the sample's offsets from their cell centre. */
export function trainPq(
  data: Float32Array,
  D: number,
  n: number,
  layout: PqLayout,
  cq: CoarseQuantizer,
  iterations: number,
  rng: Rng,
): Float32Array[] {
  const m = Math.min(n, 32_768);
  const residual = new Float32Array(m * D);
  for (let t = 0; t < m; t++) {
    const c = cq.assign(data, t * D);
    for (let d = 0; d < D; d++) residual[t * D + d] = data[t * D + d] - cq.centroids[c * D + d];
  }
  const codebooks: Float32Array[] = [];
  for (let s = 0; s < layout.M; s++) {
    const a = layout.subStart[s];
    const w = layout.subStart[s + 1] - a;
    const sub = new Float32Array(m * w);
    for (let t = 0; t < m; t++)
      for (let d = 0; d < w; d++) sub[t * w + d] = residual[t * D + a + d];
    const rows = Int32Array.from({ length: m }, (_, t) => t);
    codebooks.push(kmeans(sub, w, rows, CODES, iterations, rng));
  }
  return codebooks;
}

/** PQ codes of x (stored form) relative to the centre of cell c; `r` is scratch of width D. */
export function encodePq(
  x: Float32Array,
  c: number,
  centroids: Float32Array,
  D: number,
  layout: PqLayout,
  codebooks: readonly Float32Array[],
  r: Float32Array,
  out: Uint8Array,
): Uint8Array {
  for (let d = 0; d < D; d++) r[d] = x[d] - centroids[c * D + d];
  for (let s = 0; s < layout.M; s++) {
    const a = layout.subStart[s];
    const w = layout.subStart[s + 1] - a;
    const cb = codebooks[s];
    let best = 0;
    let bestD = Number.POSITIVE_INFINITY;
    for (let j = 0; j < CODES; j++) {
      const dd = dist2(cb, j * w, r, a, w);
      if (dd < bestD) {
        bestD = dd;
        best = j;
      }
    }
    out[s] = best;
  }
  return out;
}

/** The cells' members and their codes, as IvfIndex keeps them. */
export interface CodedCells {
  readonly len: Int32Array;
  readonly ids: readonly Int32Array[];
  readonly codes: readonly Uint8Array[];
}

/**
 * sq8 scan of the first m cells of `probeIds` into `approx`: q·x ≈ Σ q_d·lo_d + Σ (q_d·step_d)·
 * code_d, and the first sum is the same for every item, so `qs` holds q_d·step_d. Returns the
 * number of items scanned.
 */
export function scanSq8(
  cells: CodedCells,
  probeIds: Int32Array,
  m: number,
  qs: Float32Array,
  dim: number,
  approx: TopK,
): number {
  let scanned = 0;
  for (let p = 0; p < m; p++) {
    const c = probeIds[p];
    const n = cells.len[c];
    const ids = cells.ids[c];
    const codes = cells.codes[c];
    scanned += n;
    if ((dim & 3) === 0) {
      // four codes per 32-bit load: ~20% faster than byte loads in V8 (rows are 4-aligned)
      const words = new Uint32Array(codes.buffer, codes.byteOffset, (n * dim) >> 2);
      const w = dim >> 2;
      for (let t = 0, o = 0; t < n; t++, o += w) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let j = 0, d = 0; j < w; j++, d += 4) {
          const x = words[o + j];
          s0 += qs[d] * (x & 255);
          s1 += qs[d + 1] * ((x >>> 8) & 255);
          s2 += qs[d + 2] * ((x >>> 16) & 255);
          s3 += qs[d + 3] * (x >>> 24);
        }
        const s = s0 + s1 + s2 + s3;
        if (approx.accepts(ids[t], s)) approx.push(ids[t], s);
      }
      continue;
    }
    for (let t = 0, o = 0; t < n; t++, o += dim) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += qs[d] * codes[o + d];
      if (approx.accepts(ids[t], s)) approx.push(ids[t], s);
    }
  }
  return scanned;
}

/** PQ: q·(c + r) = q·c + Σ_s q_s·codeword_s, one table T of 256 partial scores per subspace. */
export function pqTable(
  qb: Float32Array,
  layout: PqLayout,
  codebooks: readonly Float32Array[],
  T: Float32Array,
): void {
  for (let s = 0; s < layout.M; s++) {
    const a = layout.subStart[s];
    const w = layout.subStart[s + 1] - a;
    const cb = codebooks[s];
    for (let j = 0; j < CODES; j++) T[s * CODES + j] = dot(cb, j * w, qb, a, w);
  }
}

/** PQ scan of the first m cells of `probeIds` into `approx`, qc[c] = q·centre; items scanned. */
export function scanPq(
  cells: CodedCells,
  probeIds: Int32Array,
  m: number,
  T: Float32Array,
  M: number,
  qc: Float64Array,
  approx: TopK,
): number {
  let scanned = 0;
  for (let p = 0; p < m; p++) {
    const c = probeIds[p];
    const n = cells.len[c];
    const ids = cells.ids[c];
    const codes = cells.codes[c];
    const base = qc[c];
    scanned += n;
    if (M === 8) {
      for (let t = 0, o = 0; t < n; t++, o += 8) {
        const s =
          base +
          T[codes[o]] +
          T[256 + codes[o + 1]] +
          T[512 + codes[o + 2]] +
          T[768 + codes[o + 3]] +
          T[1024 + codes[o + 4]] +
          T[1280 + codes[o + 5]] +
          T[1536 + codes[o + 6]] +
          T[1792 + codes[o + 7]];
        if (approx.accepts(ids[t], s)) approx.push(ids[t], s);
      }
    } else {
      for (let t = 0, o = 0; t < n; t++, o += M) {
        let s = base;
        for (let j = 0; j < M; j++) s += T[j * CODES + codes[o + j]];
        if (approx.accepts(ids[t], s)) approx.push(ids[t], s);
      }
    }
  }
  return scanned;
}

/**
 * The codes IvfIndex keeps for its rows under `sq8` or `pq` storage: trained on the build
 * sample, written per row, and scanned per query into a heap of approximate scores.
 */
export class RowCodec {
  /** bytes of codes per row */
  readonly M: number;
  private readonly layout: PqLayout;
  private sq8: Sq8Scale | null = null;
  private codebooks: Float32Array[] = [];
  private readonly table: Float32Array;
  private readonly qs: Float32Array;
  private readonly codeBuf: Uint8Array;

  /** dim: source row width; D: stored row width (dim + the sphere coordinate under MIPS). */
  constructor(
    private readonly kind: 'sq8' | 'pq',
    private readonly dim: number,
    private readonly D: number,
    pqSubspaces: number,
  ) {
    // codes cover the real dims only: the sphere coordinate meets a 0 in every query
    this.M = kind === 'pq' ? Math.max(1, Math.min(pqSubspaces, dim)) : dim;
    const subStart = new Int32Array(this.M + 1);
    for (let m = 0; m <= this.M; m++) subStart[m] = Math.round((m * dim) / this.M);
    this.layout = { M: this.M, subStart };
    this.table = new Float32Array(this.M * CODES);
    this.qs = new Float32Array(dim);
    this.codeBuf = new Uint8Array(Math.max(1, this.M));
  }

  /** Trains on the first n rows of `data` (stored form), after the cells were trained. */
  train(data: Float32Array, n: number, cq: CoarseQuantizer, iterations: number, rng: Rng): void {
    if (this.kind === 'pq')
      this.codebooks = trainPq(data, this.D, n, this.layout, cq, iterations, rng);
    else this.sq8 = trainSq8(data, this.D, this.dim, n);
  }

  /** sq8: the codes' range follows the rows (recenter), or drifted values would clamp at 0/255. */
  followRows(rows: Float32Array, n: number): void {
    if (this.kind === 'sq8') this.sq8 = trainSq8(rows, this.D, this.dim, n);
  }

  /** Codes of x (stored form) in cell c; `scratch` is free memory of width D. */
  encode(x: Float32Array, c: number, centroids: Float32Array, scratch: Float32Array): Uint8Array {
    if (this.sq8 !== null) return encodeSq8(x, this.sq8, this.dim, this.codeBuf);
    return encodePq(x, c, centroids, this.D, this.layout, this.codebooks, scratch, this.codeBuf);
  }

  /**
   * Approximate scores of the members of the first m cells of `probeIds` into `approx`, for
   * q at q[qo..] (qb: q in stored form, qc[c]: q·centre of each probed cell); items scanned.
   */
  scan(
    cells: CodedCells,
    probeIds: Int32Array,
    m: number,
    q: Float32Array,
    qo: number,
    qb: Float32Array,
    qc: Float64Array,
    approx: TopK,
  ): number {
    if (this.kind === 'pq') {
      pqTable(qb, this.layout, this.codebooks, this.table);
      return scanPq(cells, probeIds, m, this.table, this.M, qc, approx);
    }
    const step = (this.sq8 as Sq8Scale).step;
    // q·x ≈ Σ q_d·lo_d + Σ (q_d·step_d)·code_d; the first sum is the same for every item
    for (let d = 0; d < this.dim; d++) this.qs[d] = q[qo + d] * step[d];
    return scanSq8(cells, probeIds, m, this.qs, this.dim, approx);
  }

  bytes(): number {
    let bytes = 0;
    for (const cb of this.codebooks) bytes += cb.byteLength;
    return bytes;
  }
}
