import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArmMemo, type MemoArms } from '../../push/arm-memo.js';
import { armProbability } from '../../push/bandit.js';

const armsArb = fc.integer({ min: 1, max: 5 }).chain((n) =>
  fc.record({
    means: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
    sds: fc.array(fc.double({ min: 0, max: 0.3, noNaN: true }), { minLength: n, maxLength: n }),
    eligible: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
  }),
);

describe('ArmMemo', () => {
  it('answers exactly what the function computes, hit or miss, collisions included', () => {
    // Two slots: most keys collide, so evictions and stale slots are exercised.
    const memo = new ArmMemo(2);
    fc.assert(
      fc.property(fc.array(fc.tuple(armsArb, fc.nat(4)), { minLength: 1, maxLength: 20 }), (xs) => {
        for (const [arms, k] of [...xs, ...xs]) {
          const i = k % arms.means.length;
          expect(memo.get(arms, i, armProbability)).toBe(armProbability(arms, i));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('computes once for the same arms and index', () => {
    const memo = new ArmMemo();
    let calls = 0;
    const f = (a: MemoArms, i: number): number => {
      calls++;
      return armProbability(a, i);
    };
    const arms = { means: [0.1, 0.2, 0.15], sds: [0.05, 0.04, 0.06], eligible: [true, true, true] };
    const first = memo.get(arms, 1, f);
    expect(memo.get({ ...arms, means: [...arms.means] }, 1, f)).toBe(first);
    expect(calls).toBe(1);
    memo.get({ ...arms, means: [0.1, 0.2, 0.150000001] }, 1, f);
    memo.get({ ...arms, eligible: [true, true, false] }, 1, f);
    memo.get(arms, 2, f);
    expect(calls).toBe(4);
  });
});
