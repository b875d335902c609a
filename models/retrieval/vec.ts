/**
 * Dense float kernels shared by the retrieval code. Four accumulators let V8 overlap the
 * multiply-adds instead of serialising on one sum, which is worth ~2x on 64-wide rows.
 */

/** a[ao..ao+dim) · b[bo..bo+dim) */
export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (; d + 3 < dim; d += 4) {
    s0 += a[ao + d] * b[bo + d];
    s1 += a[ao + d + 1] * b[bo + d + 1];
    s2 += a[ao + d + 2] * b[bo + d + 2];
    s3 += a[ao + d + 3] * b[bo + d + 3];
  }
  for (; d < dim; d++) s0 += a[ao + d] * b[bo + d];
  return s0 + s1 + s2 + s3;
}

/** Squared euclidean distance between two rows. */
export function dist2(
  a: Float32Array,
  ao: number,
  b: Float32Array,
  bo: number,
  dim: number,
): number {
  let s0 = 0;
  let s1 = 0;
  let d = 0;
  for (; d + 1 < dim; d += 2) {
    const x = a[ao + d] - b[bo + d];
    const y = a[ao + d + 1] - b[bo + d + 1];
    s0 += x * x;
    s1 += y * y;
  }
  for (; d < dim; d++) {
    const x = a[ao + d] - b[bo + d];
    s0 += x * x;
  }
  return s0 + s1;
}

/** Squared norm of one row. */
export function norm2(a: Float32Array, ao: number, dim: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) s += a[ao + d] * a[ao + d];
  return s;
}
