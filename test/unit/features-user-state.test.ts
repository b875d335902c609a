import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveFeatureConfig } from '../../features/config.js';
import { UserStates, type SessionSummary } from '../../features/user-state.js';

describe('UserStates: last closed session in columns', () => {
  it('keeps the latest-starting session of each slot, as a Map of objects would', () => {
    const session = fc.record({
      start: fc.integer({ min: 0, max: 1_000 }).map((x) => 1.7e12 + x * 60_000),
      end: fc.double({ min: 0, max: 2e12, noNaN: true }),
      firstTs: fc.double({ min: 0, max: 2e12, noNaN: true }),
      lastTs: fc.double({ min: 0, max: 2e12, noNaN: true }),
      depth: fc.integer({ min: 1, max: 10_000 }),
      distinctItems: fc.integer({ min: 0, max: 10_000 }),
    });
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ slot: fc.integer({ min: 0, max: 70 }), s: session }),
            fc.record({ slot: fc.integer({ min: 0, max: 70 }), reset: fc.constant(true) }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const us = new UserStates(resolveFeatureConfig({}), new Float64Array(8));
          const want = new Map<number, SessionSummary>();
          for (let slot = 0; slot <= 70; slot++) us.reset(slot);
          for (const op of ops) {
            if ('reset' in op) {
              us.reset(op.slot);
              want.delete(op.slot);
            } else {
              const cur = want.get(op.slot);
              if (cur === undefined || cur.start <= op.s.start) want.set(op.slot, op.s);
              us.closeSession(op.slot, op.s);
            }
            for (let slot = 0; slot <= 70; slot++)
              expect(us.sessionOf(slot)).toEqual(want.get(slot));
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});
