import { describe, expect, it } from 'vitest';
import type { ClickEvent } from '../../models/event.js';
import { MfRecommender } from '../../models/mf.js';

/**
 * The per-event loss documented on MfRecommender, written out independently in float64:
 *   L = ½·w·(t − ŷ_i)² + ½·c0·Σ_j ŷ_j² + ½·λ·(‖p‖² + ‖q_i‖² + Σ_j ‖q_j‖²) + ½·λ_b·(b_i² + Σ_j b_j²)
 * with ŷ_x = p·q_x + b_x. θ packs [p, q_i, b_i, q_j1, b_j1, q_j2, b_j2, ...].
 */
function loss(
  theta: Float64Array,
  dim: number,
  nNeg: number,
  t: number,
  w: number,
  c0: number,
  lam: number,
  lamB: number,
): number {
  const p = theta.subarray(0, dim);
  const dot = (off: number): number => {
    let s = theta[off + dim]; // bias after the factor row
    for (let d = 0; d < dim; d++) s += p[d] * theta[off + d];
    return s;
  };
  const sq = (off: number, n: number): number => {
    let s = 0;
    for (let d = 0; d < n; d++) s += theta[off + d] ** 2;
    return s;
  };
  let L = 0.5 * w * (t - dot(dim)) ** 2;
  L += 0.5 * lam * (sq(0, dim) + sq(dim, dim)) + 0.5 * lamB * theta[2 * dim] ** 2;
  for (let n = 0; n < nNeg; n++) {
    const off = dim + (n + 1) * (dim + 1);
    L += 0.5 * c0 * dot(off) ** 2 + 0.5 * lam * sq(off, dim) + 0.5 * lamB * theta[off + dim] ** 2;
  }
  return L;
}

function ev(user: string, item: string, i: number): ClickEvent {
  return {
    eventId: `e${i}`,
    ts: 1_700_000_000_000 + i * 1000,
    userId: user,
    itemId: item,
    type: 'purchase',
  };
}

describe('MF SGD step', () => {
  it.each([
    { target: 1, w: 1 },
    { target: 1, w: 0.25 },
    { target: 0, w: 0.5 }, // negative feedback (remove_from_cart)
  ])(
    'moves every parameter by −η·∂L/∂θ (finite differences, target $target, w $w)',
    ({ target, w }) => {
      const dim = 4;
      const opts = {
        dim,
        learningRate: 0.01,
        regularization: 0.1,
        biasRegularization: 0.05,
        negativeWeight: 0.7,
        initStd: 0.5,
        seed: 7,
      };
      const mf = new MfRecommender(opts);
      // a few events create rows for users u0..u1 and items a..d (and move biases off zero)
      ['a', 'b', 'c', 'd'].forEach((item, n) => mf.learn(ev(n % 2 ? 'u1' : 'u0', item, n)));
      const u = mf.ctx.users.get('u0');
      const i = mf.ctx.items.get('a');
      const negs = Int32Array.from([mf.ctx.items.get('c'), mf.ctx.items.get('d')]);
      const rows = [i, ...negs];

      const theta = new Float64Array(dim + rows.length * (dim + 1));
      theta.set(mf.P.data.subarray(u * dim, (u + 1) * dim), 0);
      rows.forEach((r, n) => {
        const off = dim + n * (dim + 1);
        theta.set(mf.Q.data.subarray(r * dim, (r + 1) * dim), off);
        theta[off + dim] = mf.biasOf(r);
      });
      const L = (th: Float64Array): number =>
        loss(
          th,
          dim,
          negs.length,
          target,
          w,
          opts.negativeWeight,
          opts.regularization,
          opts.biasRegularization,
        );

      const grad = new Float64Array(theta.length);
      const h = 1e-6;
      for (let x = 0; x < theta.length; x++) {
        const plus = Float64Array.from(theta);
        const minus = Float64Array.from(theta);
        plus[x] += h;
        minus[x] -= h;
        grad[x] = (L(plus) - L(minus)) / (2 * h);
      }

      mf.step(u, i, target, w, negs, negs.length);

      const after = new Float64Array(theta.length);
      after.set(mf.P.data.subarray(u * dim, (u + 1) * dim), 0);
      rows.forEach((r, n) => {
        const off = dim + n * (dim + 1);
        after.set(mf.Q.data.subarray(r * dim, (r + 1) * dim), off);
        after[off + dim] = mf.biasOf(r);
      });
      for (let x = 0; x < theta.length; x++) {
        const step = after[x] - theta[x];
        const expected = -opts.learningRate * grad[x];
        // float32 storage: absolute error ~1e-8 on parameters of size ~1
        expect(Math.abs(step - expected)).toBeLessThan(1e-6 + 1e-3 * Math.abs(expected));
      }
      // and the step lowers the loss, as a small gradient step must
      expect(L(after)).toBeLessThan(L(theta));
    },
  );

  it('learns: a repeatedly co-bought pair ends up scored above unrelated items', () => {
    const mf = new MfRecommender({ dim: 8, negatives: 3, seed: 3 });
    let n = 0;
    for (let round = 0; round < 300; round++) {
      for (let u = 0; u < 20; u++) {
        const group = u % 2 === 0 ? ['a', 'b', 'c'] : ['x', 'y', 'z'];
        mf.learn(ev(`u${u}`, group[round % 3], n++));
      }
    }
    const recs = mf.recommend('u0', 3, new Set());
    expect(recs.map((r) => r.itemId).sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('MF restore', () => {
  it('starts rows a snapshot holds as NaN over, and leaves every finite row as it was', () => {
    const m = new MfRecommender();
    for (let n = 0; n < 400; n++)
      m.learn({
        eventId: `e${n}`,
        ts: Date.UTC(2024, 0, 1) + n * 60_000,
        userId: `u${n % 13}`,
        itemId: `i${(n * 7) % 31}`,
        type: n % 5 === 0 ? 'purchase' : 'view',
      });
    const dim = m.o.dim;
    m.Q.data[3 * dim + 1] = Number.NaN;
    m.P.data[2 * dim] = Number.POSITIVE_INFINITY;
    const clean = new MfRecommender();
    clean.restore(m.snapshot());
    expect(clean.repairedRows).toBe(2);
    const finite = (a: Float32Array): boolean => a.every((v) => Number.isFinite(v));
    expect(finite(clean.Q.data.subarray(0, clean.Q.rows * dim))).toBe(true);
    expect(finite(clean.P.data.subarray(0, clean.P.rows * dim))).toBe(true);
    for (let i = 0; i < m.Q.rows; i++) {
      if (i === 3) continue;
      expect(Array.from(clean.Q.data.subarray(i * dim, (i + 1) * dim))).toEqual(
        Array.from(m.Q.data.subarray(i * dim, (i + 1) * dim)),
      );
    }
    expect(clean.recommend('u2', 5, new Set()).length).toBe(5);
    // a clean snapshot restores byte for byte
    const again = new MfRecommender();
    again.restore(clean.snapshot());
    expect(again.repairedRows).toBe(0);
    expect(again.snapshot()).toEqual(clean.snapshot());
  });
});
