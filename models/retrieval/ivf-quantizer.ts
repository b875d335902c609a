import type { Rng } from '../core/rng.js';
import { TopK } from '../core/topk.js';
import { halfNorms, kmeans, nearestCentroid } from './kmeans.js';
import { dist2, dot } from './vec.js';

const EMPTY_F32 = new Float32Array(0);

/**
 * The coarse quantizer of IvfIndex: two-level k-means cells over rows in stored form (√nlist
 * groups of cells, so placing one row costs ~2·√nlist distance computations instead of nlist),
 * each cell with the RMS radius of its members, and the probe order a query visits them in.
 */
export class CoarseQuantizer {
  nlist = 0;
  centroids = EMPTY_F32;
  half = EMPTY_F32;
  ngroups = 0;
  groupCentroids = EMPTY_F32;
  groupHalf = EMPTY_F32;
  /** cells of group g are cells [groupStart[g], groupStart[g + 1]) */
  groupStart = new Int32Array(0);
  /** RMS distance of a cell's members to its centre, refreshed by build and recenter */
  radius = EMPTY_F32;
  /** per group: the largest ‖cell centre − group centre‖ + cell radius among its cells */
  groupRadius = EMPTY_F32;
  private readonly groupProbe = new TopK(16);
  private groupIds = new Int32Array(16);
  private groupScores = new Float64Array(16);

  /** D: stored row width. */
  constructor(private readonly D: number) {}

  /** k-means on `rows` rows of `data` (stored form): √nlist groups, then cells within each. */
  train(data: Float32Array, rows: number, nlist: number, iterations: number, rng: Rng): void {
    const D = this.D;
    const all = Int32Array.from({ length: rows }, (_, t) => t);
    const ngroups = Math.max(1, Math.round(Math.sqrt(nlist)));
    const groupCentroids = kmeans(data, D, all, ngroups, iterations, rng);
    const groupHalf = halfNorms(groupCentroids, ngroups, D);
    const groupOf = new Int32Array(rows);
    const groupSize = new Int32Array(ngroups);
    for (let t = 0; t < rows; t++) {
      const g = nearestCentroid(groupCentroids, groupHalf, ngroups, D, data, t * D);
      groupOf[t] = g;
      groupSize[g]++;
    }
    // each group gets cells in proportion to its share of the sample
    const cellsPer = new Int32Array(ngroups);
    let cells = 0;
    for (let g = 0; g < ngroups; g++) {
      const share = Math.round((nlist * groupSize[g]) / rows);
      cellsPer[g] = groupSize[g] === 0 ? 0 : Math.max(1, Math.min(groupSize[g], share));
      cells += cellsPer[g];
    }
    const centroids = new Float32Array(cells * D);
    const groupStart = new Int32Array(ngroups + 1);
    let cell = 0;
    for (let g = 0; g < ngroups; g++) {
      groupStart[g] = cell;
      if (cellsPer[g] === 0) continue;
      const members = new Int32Array(groupSize[g]);
      let m = 0;
      for (let t = 0; t < rows; t++) if (groupOf[t] === g) members[m++] = t;
      const sub = kmeans(data, D, members, cellsPer[g], iterations, rng);
      centroids.set(sub.subarray(0, cellsPer[g] * D), cell * D);
      cell += cellsPer[g];
    }
    groupStart[ngroups] = cell;
    this.nlist = cells;
    this.centroids = centroids;
    this.half = halfNorms(centroids, cells, D);
    this.ngroups = ngroups;
    this.groupCentroids = groupCentroids;
    this.groupHalf = groupHalf;
    this.groupStart = groupStart;
  }

  /** The cell for a stored-form row: nearest group centre, then nearest cell within it. */
  assign(data: Float32Array, xo: number): number {
    const D = this.D;
    const g = nearestCentroid(this.groupCentroids, this.groupHalf, this.ngroups, D, data, xo);
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let c = this.groupStart[g]; c < this.groupStart[g + 1]; c++) {
      const s = dot(this.centroids, c * D, data, xo, D) - this.half[c];
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    // a group left without cells (no sample row fell in it) falls back to all cells
    return best >= 0 ? best : nearestCentroid(this.centroids, this.half, this.nlist, D, data, xo);
  }

  /**
   * Every centre to the mean of its members (`sums` per cell over `len` members), every group
   * centre to the member-weighted mean of its cells.
   */
  moveCentres(sums: Float64Array, len: Int32Array): void {
    const D = this.D;
    for (let c = 0; c < this.nlist; c++) {
      const n = len[c];
      if (n > 0) for (let d = 0; d < D; d++) this.centroids[c * D + d] = sums[c * D + d] / n;
    }
    this.half = halfNorms(this.centroids, this.nlist, D);
    for (let g = 0; g < this.ngroups; g++) {
      let w = 0;
      for (let c = this.groupStart[g]; c < this.groupStart[g + 1]; c++) w += len[c];
      if (w === 0) continue;
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let c = this.groupStart[g]; c < this.groupStart[g + 1]; c++)
          s += this.centroids[c * D + d] * len[c];
        this.groupCentroids[g * D + d] = s / w;
      }
    }
    this.groupHalf = halfNorms(this.groupCentroids, this.ngroups, D);
  }

  /** Takes the cells' radii and bounds each group's spread by them. */
  setRadii(radius: Float32Array): void {
    const D = this.D;
    this.radius = radius;
    this.groupRadius = new Float32Array(this.ngroups);
    for (let g = 0; g < this.ngroups; g++) {
      let r = 0;
      for (let c = this.groupStart[g]; c < this.groupStart[g + 1]; c++) {
        const v =
          Math.sqrt(dist2(this.centroids, c * D, this.groupCentroids, g * D, D)) + this.radius[c];
        if (v > r) r = v;
      }
      this.groupRadius[g] = r;
    }
  }

  /**
   * Offers the non-empty cells to `probe` by q·c + qn·r (qn = radiusWeight·‖q‖), keeping q·c in
   * qc[c]; with 0 < probeGroups < ngroups only the cells of the best groups (by q·g + qn·R).
   */
  rankCells(
    qb: Float32Array,
    qn: number,
    probeGroups: number,
    len: Int32Array,
    qc: Float64Array,
    probe: TopK,
  ): void {
    const D = this.D;
    const cents = this.centroids;
    const radius = this.radius;
    const G = Math.min(probeGroups, this.ngroups);
    if (G > 0 && G < this.ngroups) {
      // two-level probe: the best groups first, then only their cells
      if (G > this.groupIds.length) {
        this.groupIds = new Int32Array(G);
        this.groupScores = new Float64Array(G);
      }
      const gp = this.groupProbe;
      gp.reset(G);
      for (let g = 0; g < this.ngroups; g++)
        gp.offer(g, dot(this.groupCentroids, g * D, qb, 0, D) + qn * this.groupRadius[g]);
      const ng = gp.drain(this.groupIds, this.groupScores);
      for (let x = 0; x < ng; x++) {
        const g = this.groupIds[x];
        for (let c = this.groupStart[g]; c < this.groupStart[g + 1]; c++) {
          if (len[c] === 0) continue;
          const s = dot(cents, c * D, qb, 0, D);
          qc[c] = s;
          probe.offer(c, s + qn * radius[c]);
        }
      }
    } else {
      for (let c = 0; c < this.nlist; c++) {
        if (len[c] === 0) continue;
        const s = dot(cents, c * D, qb, 0, D);
        qc[c] = s;
        probe.offer(c, s + qn * radius[c]);
      }
    }
  }

  /** Bytes of the centres and radii. */
  bytes(): number {
    return (
      this.centroids.byteLength +
      this.half.byteLength +
      this.groupCentroids.byteLength +
      this.radius.byteLength
    );
  }
}
