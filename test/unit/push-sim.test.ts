import { describe, expect, it } from 'vitest';
import { simulate } from '../../pipeline/sim/simulate.js';

/**
 * CI's small version of the push simulation benchmark (bench/push-sim.ts, docs/push.md): a few
 * thousand simulated shoppers for ten days through the real graph. It checks the direction of
 * the effect (the learned policy gets more opens per push from no more pushes, and reports an
 * uplift interval), not the benchmark's figures.
 */
describe('closed-loop push simulation (small)', () => {
  it('the learned policy opens more per push than the static one, with no more pushes', () => {
    const world = { users: 3_000, days: 10, seed: 11 };
    const s = simulate({ policy: 'static', world });
    const l = simulate({ policy: 'learned', world });
    expect(s.sent).toBeGreaterThan(1_000);
    expect(l.opensPerPush).toBeGreaterThan(1.1 * s.opensPerPush);
    // The simulator's own expectation, not just the noisy realisation, points the same way.
    expect(l.expectedOpensPerPush).toBeGreaterThan(1.1 * s.expectedOpensPerPush);
    expect(l.hourHitRate).toBeGreaterThan(s.hourHitRate);
    expect(l.pushesPerUser).toBeLessThanOrEqual(s.pushesPerUser);
    for (const r of [s, l]) {
      expect(r.uplift.ciLow).toBeLessThan(r.uplift.ciHigh);
      expect(r.trueUplift).toBeGreaterThan(0);
      expect(r.uplift.holdoutUsers).toBeGreaterThan(50);
    }
  }, 120_000);
});
