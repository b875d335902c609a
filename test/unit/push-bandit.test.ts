import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  armProbability,
  greedyArm,
  maxProbabilities,
  normCdf,
  rngForKey,
  sampleArm,
  type Arms,
} from '../../push/bandit.js';
import { Rng } from '../../models/core/rng.js';

/** P(arm i has the largest normal draw), brute force: many draws with an independent generator. */
function monteCarlo(arms: Arms, draws: number, seed: number): number[] {
  const r = new Rng(seed);
  const gauss = (): number =>
    Math.sqrt(-2 * Math.log(Math.max(r.next(), 1e-12))) * Math.cos(2 * Math.PI * r.next());
  const wins = arms.means.map(() => 0);
  for (let k = 0; k < draws; k++) {
    let best = -1;
    let bestV = -Infinity;
    arms.means.forEach((m, i) => {
      if (!arms.eligible[i]) return;
      const v = m + Math.max(1e-6, arms.sds[i] as number) * gauss();
      if (v > bestV) {
        bestV = v;
        best = i;
      }
    });
    if (best >= 0) wins[best] = (wins[best] as number) + 1;
  }
  return wins.map((w) => w / draws);
}

const armsArb = fc.integer({ min: 2, max: 4 }).chain((k) =>
  fc.record({
    means: fc.array(fc.double({ min: 0, max: 0.5, noNaN: true }), { minLength: k, maxLength: k }),
    sds: fc.array(fc.double({ min: 0.001, max: 0.2, noNaN: true }), { minLength: k, maxLength: k }),
    eligible: fc
      .array(fc.boolean(), { minLength: k, maxLength: k })
      .map((e) => (e.some(Boolean) ? e : e.map(() => true))),
  }),
);

describe('Thompson propensities', () => {
  it('normCdf matches known values', () => {
    expect(normCdf(0)).toBeCloseTo(0.5, 7);
    expect(normCdf(1.96)).toBeCloseTo(0.975, 4);
    expect(normCdf(-1)).toBeCloseTo(0.158655, 5);
  });

  it('P(arm is the max) by quadrature equals a brute-force Monte Carlo count', () => {
    fc.assert(
      fc.property(armsArb, fc.integer({ min: 1, max: 1e6 }), (arms, seed) => {
        const exact = maxProbabilities(arms);
        const mc = monteCarlo(arms, 20_000, seed);
        expect(exact.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
        exact.forEach((p, i) => {
          if (!arms.eligible[i]) expect(p).toBe(0);
          // 20,000 draws: the MC count is within ±0.012 (about 3 sd) of the truth.
          expect(Math.abs(p - (mc[i] as number))).toBeLessThan(0.015);
        });
      }),
      { numRuns: 40 },
    );
  });

  it('sampleArm chooses each arm as often as the propensity it logs, ε-mixture included', () => {
    const arms: Arms = {
      means: [0.1, 0.12, 0.05],
      sds: [0.03, 0.04, 0.05],
      eligible: [true, true, true],
    };
    const counts = [0, 0, 0];
    const logged = [0, 0, 0];
    const N = 20_000;
    for (let i = 0; i < N; i++) {
      const c = sampleArm(arms, rngForKey(`k${i}`), 0.1);
      if (!c) throw new Error('no arm');
      counts[c.index] = (counts[c.index] as number) + 1;
      logged[c.index] = c.propensity;
    }
    counts.forEach((n, i) => expect(Math.abs(n / N - (logged[i] as number))).toBeLessThan(0.015));
    // Every arm keeps at least ε/k.
    for (const p of logged) expect(p).toBeGreaterThanOrEqual(0.1 / 3);
  });

  it('greedyArm takes the best mean except on the ε branch, and says so in its propensity', () => {
    const arms: Arms = { means: [0.1, 0.3, 0.2], sds: [0, 0, 0], eligible: [true, false, true] };
    const seen = new Map<number, number>();
    for (let i = 0; i < 5_000; i++) {
      const c = greedyArm(arms, rngForKey(`g${i}`), 0.2);
      if (!c) throw new Error('no arm');
      expect(c.index).not.toBe(1);
      expect(c.propensity).toBeCloseTo(c.index === 2 ? 0.9 : 0.1, 12);
      seen.set(c.index, (seen.get(c.index) ?? 0) + 1);
    }
    expect((seen.get(2) ?? 0) / 5_000).toBeCloseTo(0.9, 1);
  });

  it('draws depend only on the key: a replay decides the same', () => {
    const arms: Arms = {
      means: [0.1, 0.1, 0.1],
      sds: [0.1, 0.1, 0.1],
      eligible: [true, true, true],
    };
    for (let i = 0; i < 50; i++)
      expect(sampleArm(arms, rngForKey(`r${i}`), 0.05)).toEqual(
        sampleArm(arms, rngForKey(`r${i}`), 0.05),
      );
  });
});

describe('one arm’s propensity', () => {
  it('equals the all-arms computation within a thousandth', () => {
    fc.assert(
      fc.property(armsArb, (arms) => {
        const all = maxProbabilities(arms);
        all.forEach((p, i) => expect(Math.abs(armProbability(arms, i) - p)).toBeLessThan(1e-3));
      }),
      { numRuns: 200 },
    );
  });
});
