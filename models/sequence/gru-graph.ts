import type { Tensor } from '@tensorflow/tfjs';
import type { Tf } from '../ranking/tf.js';

/**
 * One mini-batch of the GRU fit, laid out time-major: position p = t·Bc + b is step t of chunk
 * b. Embedding rows are gathered by the caller (see gru-train.ts for why).
 */
export interface GruBatch {
  readonly Bc: number;
  readonly Tb: number;
  readonly d: number;
  /** Tb arrays of Bc × d: the input embeddings of every chunk at step t (0 where padded). */
  readonly x: readonly Float32Array[];
  /** N × d target embeddings and N target biases; N = Tb · Bc. */
  readonly posE: Float32Array;
  readonly posB: Float32Array;
  /** N logit corrections of the targets (−log expected count). */
  readonly corrPos: Float32Array;
  /** N loss weights, already divided by their sum (0 where padded). */
  readonly w: Float32Array;
  /** S × d embeddings and S biases of the sampled negatives. */
  readonly negE: Float32Array;
  readonly negB: Float32Array;
  /** N × S: each negative's correction, −1e9 where it is the position's own target. */
  readonly negConst: Float32Array;
}

export interface GruGrads {
  readonly loss: number;
  /** Tb arrays of Bc × d. */
  readonly x: Float32Array[];
  /** In the model's layout (dim × 3·dim, gates z | r | n side by side). */
  readonly wx: Float32Array;
  readonly wh: Float32Array;
  readonly bx: Float32Array;
  readonly bh: Float32Array;
  readonly posE: Float32Array;
  readonly negE: Float32Array;
  readonly posB: Float32Array;
  readonly negB: Float32Array;
}

/** Gate k's d × d block of a d × 3d row-major matrix. */
function gateBlock(w: Float32Array, d: number, k: number): Float32Array {
  const out = new Float32Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j] = w[i * 3 * d + k * d + j];
  return out;
}

function mergeBlocks(blocks: readonly Float32Array[], d: number): Float32Array {
  const out = new Float32Array(d * 3 * d);
  blocks.forEach((g, k) => {
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) out[i * 3 * d + k * d + j] = g[i * d + j];
  });
  return out;
}

/**
 * Loss and gradients of one batch: next-item sampled softmax over the GRU's states. The graph
 * only uses what tfjs's pure-JS CPU backend runs fast: matMuls, element-wise ops on equal
 * shapes, contiguous row slices. Its column slices and broadcasting element-wise ops walk the
 * tensor one element at a time through index arithmetic (three quarters of a step's time
 * before this layout), so gates have weights of their own, biases are broadcast by a matMul
 * with a column of ones, row sums are matMuls with ones, and no max is subtracted before exp
 * (a non-finite loss is reported and the caller skips the step).
 */
export function gruBatchGrads(
  tf: Tf,
  wx: Float32Array,
  wh: Float32Array,
  bx: Float32Array,
  bh: Float32Array,
  b: GruBatch,
): GruGrads {
  const { Bc, Tb, d } = b;
  const N = Bc * Tb;
  const S = b.negB.length;
  const out = tf.tidy(() => {
    const onesB = tf.ones([Bc, 1]);
    const onesN = tf.ones([N, 1]);
    const onesD = tf.ones([d, 1]);
    const onesS = tf.ones([S, 1]);
    const cPos = tf.tensor2d(b.corrPos, [N, 1]);
    const negC = tf.tensor2d(b.negConst, [N, S]);
    const wt = tf.tensor2d(b.w, [N, 1]);
    const f = (...a: Tensor[]): Tensor => {
      const [xz, xr, xn, hz, hr, hn, bz, br, bxn, bhn, pE, nE, pB, nB] = a;
      const X = a.slice(14);
      const Bz = tf.matMul(onesB, bz);
      const Br = tf.matMul(onesB, br);
      const Bxn = tf.matMul(onesB, bxn);
      const Bhn = tf.matMul(onesB, bhn);
      let h: Tensor = tf.zeros([Bc, d]);
      const hs: Tensor[] = [];
      for (let t = 0; t < Tb; t++) {
        const x = X[t];
        const z = tf.sigmoid(tf.add(tf.add(tf.matMul(x, xz), tf.matMul(h, hz)), Bz));
        const r = tf.sigmoid(tf.add(tf.add(tf.matMul(x, xr), tf.matMul(h, hr)), Br));
        const n = tf.tanh(
          tf.add(tf.add(tf.matMul(x, xn), Bxn), tf.mul(r, tf.add(tf.matMul(h, hn), Bhn))),
        );
        h = tf.add(n, tf.mul(z, tf.sub(h, n)));
        hs.push(h);
      }
      const H = Tb === 1 ? hs[0] : tf.concat(hs, 0);
      const lp = tf.add(tf.add(tf.matMul(tf.mul(H, pE), onesD), pB), cPos);
      const ln = tf.add(tf.add(tf.matMul(H, nE, false, true), tf.matMul(onesN, nB)), negC);
      const lse = tf.log(tf.add(tf.exp(lp), tf.matMul(tf.exp(ln), onesS)));
      return tf.sum(tf.mul(tf.sub(lse, lp), wt));
    };
    const t2 = (v: Float32Array, r: number, c: number): Tensor => tf.tensor2d(v, [r, c]);
    const gates = (w: Float32Array): Tensor[] => [0, 1, 2].map((k) => t2(gateBlock(w, d, k), d, d));
    const bRow = (v: Float32Array, k: number): Float32Array => v.subarray(k * d, (k + 1) * d);
    const bzr = (k: number): Float32Array => bRow(bx, k).map((v, j) => v + bh[k * d + j]);
    const vg = tf.valueAndGrads(f)([
      ...gates(wx),
      ...gates(wh),
      t2(bzr(0), 1, d),
      t2(bzr(1), 1, d),
      t2(bRow(bx, 2), 1, d),
      t2(bRow(bh, 2), 1, d),
      t2(b.posE, N, d),
      t2(b.negE, S, d),
      t2(b.posB, N, 1),
      t2(b.negB, 1, S),
      ...b.x.map((x) => t2(x, Bc, d)),
    ]);
    return {
      loss: vg.value.dataSync()[0],
      grads: vg.grads.map((t) => t.dataSync() as Float32Array),
    };
  });
  const g = out.grads;
  // the z and r biases of both sides only ever appear summed: both get the sum's gradient
  const gbx = new Float32Array(3 * d);
  const gbh = new Float32Array(3 * d);
  gbx.set(g[6], 0);
  gbx.set(g[7], d);
  gbx.set(g[8], 2 * d);
  gbh.set(g[6], 0);
  gbh.set(g[7], d);
  gbh.set(g[9], 2 * d);
  return {
    loss: out.loss,
    wx: mergeBlocks(g.slice(0, 3), d),
    wh: mergeBlocks(g.slice(3, 6), d),
    bx: gbx,
    bh: gbh,
    posE: g[10],
    negE: g[11],
    posB: g[12],
    negB: g[13],
    x: g.slice(14),
  };
}
