/**
 * The GRU4Rec-style session model as plain typed arrays. TensorFlow.js only fits the weights
 * (gru-train.ts); serving steps the recurrence and scores items with loops over these arrays,
 * so the live path never calls a tensor op and a hot swap is one reference assignment.
 *
 * One embedding table serves as the GRU's input and as the output layer (tied weights: half the
 * parameters, and an item seen only as a target still gets a useful input vector):
 *   gx = x·Wx + bx, gh = h·Wh + bh               (3 gates side by side: z | r | n)
 *   z = σ(gx_z + gh_z), r = σ(gx_r + gh_r)
 *   n = tanh(gx_n + r ⊙ gh_n)                      (reset after the matmul, as Keras/cuDNN do)
 *   h' = n + z ⊙ (h − n)
 *   score(item) = h'·E[item] + bias[item]
 */
export interface SequenceModel {
  /** e.g. `replay@120000` or `nearline@2026-12-05T09:00:00.000Z` */
  readonly version: string;
  readonly dim: number;
  /** Item id of each row. */
  readonly vocab: readonly string[];
  /** V × dim, row-major. */
  readonly emb: Float32Array;
  /** V output biases (popularity, in effect). */
  readonly bias: Float32Array;
  /** dim × 3·dim, row-major: wx[i·3d + j]. */
  readonly wx: Float32Array;
  readonly wh: Float32Array;
  readonly bx: Float32Array;
  readonly bh: Float32Array;
}

/** Throws when the arrays do not fit together, so a bad swap fails before it serves. */
export function checkSequenceModel(m: SequenceModel): void {
  const d = m.dim;
  const v = m.vocab.length;
  if (!(Number.isInteger(d) && d >= 1)) throw new Error(`sequence model: bad dim ${d}`);
  if (
    m.emb.length !== v * d ||
    m.bias.length !== v ||
    m.wx.length !== d * 3 * d ||
    m.wh.length !== d * 3 * d ||
    m.bx.length !== 3 * d ||
    m.bh.length !== 3 * d
  )
    throw new Error(
      `sequence model: shapes emb ${m.emb.length}, bias ${m.bias.length}, wx ${m.wx.length}, wh ${m.wh.length} do not match ${v} items × ${d} dims`,
    );
  for (const a of [m.emb, m.bias, m.wx, m.wh, m.bx, m.bh])
    for (let x = 0; x < a.length; x++)
      if (!Number.isFinite(a[x])) throw new Error('sequence model: non-finite weight');
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * One recurrence step in place: h (at `ho` in `h`) ← GRU(h, E[row]). `g` is scratch of at least
 * 6·dim. About 6·dim² multiply-adds (6k at dim 32).
 */
export function gruStep(
  m: SequenceModel,
  h: Float32Array,
  ho: number,
  row: number,
  g: Float32Array,
): void {
  const d = m.dim;
  const d3 = 3 * d;
  const { emb, wx, wh, bx, bh } = m;
  const xo = row * d;
  for (let j = 0; j < d3; j++) {
    g[j] = bx[j];
    g[d3 + j] = bh[j];
  }
  for (let i = 0; i < d; i++) {
    const xi = emb[xo + i];
    const hi = h[ho + i];
    const o = i * d3;
    for (let j = 0; j < d3; j++) {
      g[j] += xi * wx[o + j];
      g[d3 + j] += hi * wh[o + j];
    }
  }
  for (let j = 0; j < d; j++) {
    const z = sigmoid(g[j] + g[d3 + j]);
    const r = sigmoid(g[d + j] + g[d3 + d + j]);
    const n = Math.tanh(g[2 * d + j] + r * g[d3 + 2 * d + j]);
    h[ho + j] = n + z * (h[ho + j] - n);
  }
}

/** h·E[row] + bias[row]. */
export function itemScore(m: SequenceModel, h: Float32Array, ho: number, row: number): number {
  const d = m.dim;
  const e = m.emb;
  const eo = row * d;
  let s = m.bias[row];
  for (let j = 0; j < d; j++) s += h[ho + j] * e[eo + j];
  return s;
}
