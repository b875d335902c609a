import { Rng } from '../core/rng.js';
import { dot } from './vec.js';

/**
 * Lloyd's k-means over a subset of the rows of a row-major Float32Array. Assignment uses
 * argmax(x·c − ‖c‖²/2), the same order as argmin ‖x − c‖² without a subtraction per dimension.
 * Empty clusters are re-seeded from a random member of the largest one, so all k survive.
 */
export function kmeans(
  data: Float32Array,
  dim: number,
  rows: Int32Array,
  k: number,
  iterations: number,
  rng: Rng,
): Float32Array {
  const n = rows.length;
  const kk = Math.max(1, Math.min(k, n));
  const c = new Float32Array(k * dim);
  if (n === 0) return c;
  // k distinct random rows as the start (a partial Fisher-Yates over a copy)
  const pick = Int32Array.from(rows);
  for (let j = 0; j < kk; j++) {
    const r = j + rng.int(n - j);
    const t = pick[j];
    pick[j] = pick[r];
    pick[r] = t;
    c.set(data.subarray(pick[j] * dim, pick[j] * dim + dim), j * dim);
  }
  const assign = new Int32Array(n);
  const half = new Float32Array(kk);
  const sums = new Float64Array(kk * dim);
  const counts = new Int32Array(kk);
  for (let it = 0; it < iterations; it++) {
    for (let j = 0; j < kk; j++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += c[j * dim + d] * c[j * dim + d];
      half[j] = s / 2;
    }
    let changed = 0;
    for (let t = 0; t < n; t++) {
      const xo = rows[t] * dim;
      const best = nearestCentroid(c, half, kk, dim, data, xo);
      if (best !== assign[t] || it === 0) changed++;
      assign[t] = best;
    }
    sums.fill(0);
    counts.fill(0);
    for (let t = 0; t < n; t++) {
      const j = assign[t];
      counts[j]++;
      const xo = rows[t] * dim;
      const so = j * dim;
      for (let d = 0; d < dim; d++) sums[so + d] += data[xo + d];
    }
    for (let j = 0; j < kk; j++) {
      if (counts[j] === 0) {
        let big = 0;
        for (let q = 1; q < kk; q++) if (counts[q] > counts[big]) big = q;
        // a random member of the biggest cluster becomes the new centre
        let m = rng.int(counts[big]);
        for (let t = 0; t < n; t++) {
          if (assign[t] === big && m-- === 0) {
            c.set(data.subarray(rows[t] * dim, rows[t] * dim + dim), j * dim);
            break;
          }
        }
        continue;
      }
      const inv = 1 / counts[j];
      for (let d = 0; d < dim; d++) c[j * dim + d] = sums[j * dim + d] * inv;
    }
    if (it > 0 && changed === 0) break;
  }
  return c;
}

/** Index of the centroid nearest to data[xo..xo+dim) (half[j] = ‖c_j‖²/2). */
export function nearestCentroid(
  c: Float32Array,
  half: Float32Array,
  k: number,
  dim: number,
  data: Float32Array,
  xo: number,
): number {
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < k; j++) {
    const s = dot(c, j * dim, data, xo, dim) - half[j];
    if (s > bestScore) {
      bestScore = s;
      best = j;
    }
  }
  return best;
}

/** ‖c_j‖²/2 per centroid, for nearestCentroid. */
export function halfNorms(c: Float32Array, k: number, dim: number): Float32Array {
  const h = new Float32Array(k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += c[j * dim + d] * c[j * dim + d];
    h[j] = s / 2;
  }
  return h;
}
