import type { TopK } from '../core/topk.js';
import { dot } from './vec.js';

/**
 * The brute-force reference: q·x for every row [0, n) of a row-major matrix, kept in `out`.
 * Linear in the catalogue; the ground truth for recall and the right choice below a few
 * thousand items, where an index's probe overhead costs more than it saves.
 */
export function exactSearchInto(
  data: Float32Array,
  n: number,
  dim: number,
  q: Float32Array,
  qo: number,
  out: TopK,
  skip?: (item: number) => boolean,
): void {
  for (let i = 0; i < n; i++) {
    const s = dot(data, i * dim, q, qo, dim);
    if (out.accepts(i, s) && (skip === undefined || !skip(i))) out.push(i, s);
  }
}

/**
 * Exact top-k for a block of queries at once: each row is read from memory once per block
 * instead of once per query, which is what makes a 1M-row ground truth affordable.
 */
export function exactSearchBlock(
  data: Float32Array,
  n: number,
  dim: number,
  queries: Float32Array,
  first: number,
  count: number,
  heaps: readonly TopK[],
): void {
  for (let i = 0; i < n; i++) {
    const xo = i * dim;
    for (let b = 0; b < count; b++) {
      const s = dot(data, xo, queries, (first + b) * dim, dim);
      const h = heaps[b];
      if (h.accepts(i, s)) h.push(i, s);
    }
  }
}
