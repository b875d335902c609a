import { describe, expect, it } from 'vitest';
import { F, FEATURE_INDEX, blendModel } from '../../models/ranking/model.js';
import { auc, fitRanker } from '../../models/ranking/train.js';
import { loadTf } from '../../models/ranking/tf.js';
import { mulberry32 } from '../support/synthetic-stream.js';

/** Rows where being bought depends on trending and on knn only mid-session (an interaction). */
function data(n: number, seed: number): { X: Float32Array; y: Float32Array } {
  const rnd = mulberry32(seed);
  const X = new Float32Array(n * F);
  const y = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    const o = r * F;
    for (let f = 0; f < F; f++) X[o + f] = rnd() < 0.5 ? rnd() : 0;
    const session = rnd() < 0.5 ? 1 : 0;
    X[o + FEATURE_INDEX.session] = session;
    const logit = 3 * X[o + FEATURE_INDEX.trending] + 4 * session * X[o + FEATURE_INDEX.knn] - 3;
    y[r] = rnd() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
  }
  return { X, y };
}

describe('nearline ranker fit (TensorFlow.js)', () => {
  it('loads one TensorFlow.js package, native or pure JS', async () => {
    const { tf, backend } = await loadTf();
    expect(['tfjs-node', 'tfjs']).toContain(backend);
    expect(typeof tf.layers.dense).toBe('function');
  });

  it('fits, exports typed-array weights, and ranks held-out rows better than the blend', async () => {
    const train = data(6000, 1);
    const test = data(2000, 2);
    const fit = await fitRanker(train.X, train.y, 6000, {
      epochs: 12,
      hidden: 8,
      version: 'nearline@t',
    });
    expect(fit.model.version).toBe('nearline@t');
    expect(fit.model.w1).toHaveLength(F * 8);
    expect(Number.isFinite(fit.loss)).toBe(true);
    const fitted = auc(fit.model, test.X, test.y, 0, 2000);
    const blend = auc(blendModel(8), test.X, test.y, 0, 2000);
    expect(fitted).toBeGreaterThan(0.7);
    expect(fitted).toBeGreaterThan(blend);
  }, 60_000);

  it('computes AUC with ties counted half', () => {
    const m = blendModel(2);
    m.wide.fill(0);
    m.wide[0] = 1;
    const X = new Float32Array(4 * F);
    const y = Float32Array.of(1, 0, 1, 0);
    X[0] = 2;
    X[F] = 1;
    X[2 * F] = 1;
    X[3 * F] = 0;
    // pairs (pos, neg): (2,1) win, (2,0) win, (1,1) tie, (1,0) win → 3.5 / 4
    expect(auc(m, X, y, 0, 4)).toBeCloseTo(0.875, 9);
  });
});
