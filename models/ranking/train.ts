import type { SymbolicTensor, Tensor } from '@tensorflow/tfjs';
import { F, type RankerModel, checkModel, score } from './model.js';
import { loadTf } from './tf.js';

export interface FitOptions {
  /** Hidden units of the MLP (default 8; must match what the serving model expects). */
  hidden?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Version string of the fitted model (default `nearline@<ISO time>`). */
  version?: string;
}

export interface FitResult {
  readonly model: RankerModel;
  /** Final training loss (binary cross-entropy). */
  readonly loss: number;
  readonly backend: 'tfjs-node' | 'tfjs';
  readonly seconds: number;
}

/**
 * Fits the wide & deep ranker, logit = wide·x + b + w2·relu(W1ᵀx + b1) + b2, on labelled rows
 * (X: n × F, y ∈ {0, 1}) with TensorFlow.js and copies the weights out into a RankerModel, so
 * serving scores with typed arrays and never calls a tensor op.
 */
export async function fitRanker(
  X: Float32Array,
  y: Float32Array,
  n: number,
  opts: FitOptions = {},
): Promise<FitResult> {
  const started = performance.now();
  const { tf, backend } = await loadTf();
  const H = opts.hidden ?? 8;
  const input = tf.input({ shape: [F] });
  const wideLayer = tf.layers.dense({ units: 1, name: 'wide' });
  const hiddenLayer = tf.layers.dense({ units: H, activation: 'relu', name: 'hidden' });
  const deepLayer = tf.layers.dense({ units: 1, name: 'deep' });
  const logit = tf.layers
    .add()
    .apply([
      wideLayer.apply(input) as SymbolicTensor,
      deepLayer.apply(hiddenLayer.apply(input)) as SymbolicTensor,
    ]) as SymbolicTensor;
  const prob = tf.layers.activation({ activation: 'sigmoid' }).apply(logit) as SymbolicTensor;
  const net = tf.model({ inputs: input, outputs: prob });
  net.compile({ optimizer: tf.train.adam(opts.learningRate ?? 0.01), loss: 'binaryCrossentropy' });
  const xs = tf.tensor2d(X.subarray(0, n * F), [n, F]);
  const ys = tf.tensor2d(y.subarray(0, n), [n, 1]);
  let loss = Number.NaN;
  try {
    const h = await net.fit(xs, ys, {
      epochs: opts.epochs ?? 8,
      batchSize: opts.batchSize ?? 256,
      shuffle: true,
      verbose: 0,
    });
    const last = h.history.loss[h.history.loss.length - 1];
    loss = typeof last === 'number' ? last : Number(last);
    const weights = (layer: { getWeights(): Tensor[] }): Float32Array[] =>
      layer.getWeights().map((t) => Float32Array.from(t.dataSync()));
    const [wk, wb] = weights(wideLayer);
    const [hk, hb] = weights(hiddenLayer);
    const [dk, db] = weights(deepLayer);
    // Dense kernels are [inputs, units] row-major, the layout RankerModel.w1 uses
    const model: RankerModel = {
      version: opts.version ?? `nearline@${new Date().toISOString()}`,
      hidden: H,
      wide: wk,
      bias: wb[0],
      w1: hk,
      b1: hb,
      w2: dk,
      b2: db[0],
    };
    checkModel(model);
    return { model, loss, backend, seconds: (performance.now() - started) / 1000 };
  } finally {
    xs.dispose();
    ys.dispose();
    net.dispose();
  }
}

/**
 * Area under the ROC curve of `m` on rows [from, to): the probability that a random positive
 * scores above a random negative (ties count half). NaN without both classes.
 */
export function auc(
  m: RankerModel,
  X: Float32Array,
  y: Float32Array,
  from: number,
  to: number,
): number {
  const act = new Float32Array(m.hidden);
  const idx: number[] = [];
  const s = new Float64Array(to - from);
  for (let r = from; r < to; r++) {
    s[r - from] = score(m, X, r * F, act);
    idx.push(r - from);
  }
  idx.sort((a, b) => s[a] - s[b]);
  let pos = 0;
  let neg = 0;
  let rankSum = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j < idx.length && s[idx[j]] === s[idx[i]]) j++;
    const mid = (i + j + 1) / 2; // average 1-based rank of the tie group
    for (let t = i; t < j; t++) {
      if (y[from + idx[t]] > 0.5) {
        pos++;
        rankSum += mid;
      } else neg++;
    }
    i = j;
  }
  if (pos === 0 || neg === 0) return Number.NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}
