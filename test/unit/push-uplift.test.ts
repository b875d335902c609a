import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluatePolicy, parsePolicy, type LoggedDecision } from '../../push/ips.js';
import { upliftByTriggerDay, upliftTotal } from '../../push/uplift.js';
import { mulberry32 } from '../../pipeline/sim/world.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 2);

const factsArb = fc.record({
  decisions: fc.array(
    fc.record({
      u: fc.integer({ min: 0, max: 30 }),
      trigger: fc.constantFrom('price_drop', 'abandoned_cart'),
      t: fc.integer({ min: 0, max: 5 * DAY }),
    }),
    { minLength: 1, maxLength: 120 },
  ),
  purchases: fc.array(
    fc.record({ u: fc.integer({ min: 0, max: 30 }), t: fc.integer({ min: 0, max: 6 * DAY }) }),
    {
      maxLength: 120,
    },
  ),
});

describe('uplift estimators (the arithmetic of the ClickHouse views)', () => {
  it('per trigger and day: counts, rates and CI equal a brute-force recomputation', () => {
    fc.assert(
      fc.property(factsArb, ({ decisions, purchases }) => {
        const d = decisions.map((x) => ({
          userId: `u${x.u}`,
          trigger: x.trigger,
          ts: T0 + x.t,
          holdout: x.u % 4 === 0,
        }));
        const p = purchases.map((x) => ({ userId: `u${x.u}`, ts: T0 + x.t }));
        for (const cell of upliftByTriggerDay(d, p)) {
          for (const holdout of [false, true]) {
            const users = new Set(
              d
                .filter(
                  (x) =>
                    x.trigger === cell.trigger && new Date(x.ts).toISOString().startsWith(cell.day),
                )
                .filter((x) => x.holdout === holdout)
                .map((x) => x.userId),
            );
            let conv = 0;
            for (const u of users) {
              const first = Math.min(
                ...d
                  .filter((x) => x.userId === u && x.trigger === cell.trigger)
                  .filter((x) => new Date(x.ts).toISOString().startsWith(cell.day))
                  .map((x) => x.ts),
              );
              if (p.some((x) => x.userId === u && x.ts >= first && x.ts < first + DAY)) conv++;
            }
            expect(holdout ? cell.holdoutUsers : cell.treatedUsers).toBe(users.size);
            expect(holdout ? cell.holdoutConversions : cell.treatedConversions).toBe(conv);
          }
          if (cell.holdoutUsers > 0 && cell.treatedUsers > 0)
            expect(cell.uplift).toBeCloseTo(
              cell.treatedConversions / cell.treatedUsers -
                cell.holdoutConversions / cell.holdoutUsers,
              12,
            );
        }
      }),
    );
  });

  it('the whole period without exposure differences is the plain difference of means', () => {
    // Everyone's first decision at the same time: the adjustment has nothing to adjust.
    const d = Array.from({ length: 40 }, (_, i) => ({
      userId: `u${i}`,
      trigger: 't',
      ts: T0,
      holdout: i < 10,
    }));
    const p = Array.from({ length: 40 }, (_, i) => ({
      userId: `u${i}`,
      ts: T0 + (i % 3) * DAY,
    })).filter((_, i) => i % 2 === 0 || i >= 10);
    const r = upliftTotal(d, p, T0 + 10 * DAY);
    const mean = (us: number[]) =>
      us.reduce((s, i) => s + p.filter((x) => x.userId === `u${i}`).length, 0) / us.length;
    const treated = Array.from({ length: 30 }, (_, i) => i + 10);
    const held = Array.from({ length: 10 }, (_, i) => i);
    expect(r.upliftPerUser).toBeCloseTo(mean(treated) - mean(held), 12);
    expect([r.treatedUsers, r.holdoutUsers]).toEqual([30, 10]);
  });

  it('removes a chance imbalance in exposure: an earlier first decision is not an effect', () => {
    // Holdout users happen to become eligible later, so they had less time to buy: the raw
    // difference shows an "effect" of pure exposure; the adjusted one does not.
    const r = mulberry32(3);
    const d: { userId: string; trigger: string; ts: number; holdout: boolean }[] = [];
    const p: { userId: string; ts: number }[] = [];
    for (let i = 0; i < 4_000; i++) {
      const holdout = i % 10 === 0;
      const start = T0 + Math.floor(r() * (holdout ? 20 : 10)) * DAY;
      d.push({ userId: `u${i}`, trigger: 't', ts: start, holdout });
      for (let t = start; t < T0 + 30 * DAY; t += DAY)
        if (r() < 0.05) p.push({ userId: `u${i}`, ts: t });
    }
    const u = upliftTotal(d, p, T0 + 30 * DAY);
    expect(u.treatedMean - u.holdoutMean).toBeGreaterThan(0.15);
    expect(u.ciLow).toBeLessThan(0);
    expect(u.ciHigh).toBeGreaterThan(0);
  });
});

describe('off-policy evaluation (IPS, SNIPS)', () => {
  /** A uniform A/B/C test: variant v opens with p[v]. */
  function logs(n: number, seed: number, p = [0.1, 0.2, 0.05]): LoggedDecision[] {
    const r = mulberry32(seed);
    return Array.from({ length: n }, () => {
      const v = Math.floor(r() * 3);
      return {
        trigger: 'price_drop',
        locale: 'en',
        channel: 'push',
        variant: 'ABC'[v] as string,
        propensity: 1 / 3,
        variantPropensity: 1 / 3,
        opened: r() < (p[v] as number) ? 1 : 0,
        converted: 0,
        trueOpen: p,
      };
    });
  }

  it('the logging policy’s estimate is its mean reward; IPS and SNIPS agree for it', () => {
    const rows = logs(1_000, 1);
    const r = evaluatePolicy(rows, parsePolicy('logged'));
    const mean = rows.reduce((s, x) => s + x.opened, 0) / rows.length;
    expect(r.openIps.value).toBeCloseTo(mean, 12);
    expect(r.openSnips.value).toBeCloseTo(mean, 12);
    expect(r.effectiveN).toBeCloseTo(rows.length, 6);
  });

  it('estimates "always B" from a uniform test: the 95 % CI covers the truth in about 95 % of logs', () => {
    let covered = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const r = evaluatePolicy(logs(3_000, seed), parsePolicy('variant=B'));
      expect(r.trueOpen).toBeCloseTo(0.2, 12);
      if (r.openIps.ciLow <= 0.2 && 0.2 <= r.openIps.ciHigh) covered++;
    }
    expect(covered).toBeGreaterThanOrEqual(88);
  });

  it('flags the rows where the logger never tried what the candidate would do', () => {
    // The static policy always uses push: "always e-mail" has no support there.
    const rows = logs(300, 2).map((d, i) => ({
      ...d,
      channel: i % 3 === 0 ? 'email' : 'push',
      propensity: d.variantPropensity,
    }));
    expect(evaluatePolicy(rows, parsePolicy('channel=email')).unsupported).toBe(200);
    expect(evaluatePolicy(rows, parsePolicy('variant=B')).unsupported).toBe(0);
  });

  it('refuses policies it does not know', () => {
    expect(() => parsePolicy('variant=Z')).toThrow(/unknown policy part/);
    expect(() => parsePolicy('uniform,variant=A')).toThrow(/exclude/);
  });
});
