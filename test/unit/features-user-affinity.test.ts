import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecayedScores } from '../../features/decayed-scores.js';
import { UserAffinity } from '../../features/user-affinity.js';

const HALF = 3_600_000;

describe('UserAffinity: category affinity in columns', () => {
  it('gives the values and ranking a DecayedScores per slot gives, across spills and resets', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        slot: fc.integer({ min: 0, max: 40 }),
        label: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
        // zero, negative (removals) and out-of-order times included
        weight: fc.constantFrom(1, 2, 0.5, -1, 0),
        ts: fc.integer({ min: 0, max: 20 }).map((x) => 1.7e12 + x * 600_000),
      }),
      fc.record({ kind: fc.constant('reset' as const), slot: fc.integer({ min: 0, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.array(op, { maxLength: 300 }), (cap, ops) => {
        const cols = new UserAffinity(HALF, cap);
        const plain = new Map<number, DecayedScores>();
        for (let s = 0; s <= 40; s++) cols.reset(s);
        for (const o of ops) {
          if (o.kind === 'reset') {
            cols.reset(o.slot);
            plain.delete(o.slot);
            continue;
          }
          let d = plain.get(o.slot);
          if (d === undefined) plain.set(o.slot, (d = new DecayedScores(HALF, cap)));
          d.add(o.label, o.weight, o.ts);
          cols.add(o.slot, o.label, o.weight, o.ts);
          const at = o.ts + 300_000;
          expect(cols.ranked(o.slot, at)).toEqual(d.ranked(at));
          expect(cols.valueAt(o.slot, o.label, at)).toBe(d.valueAt(o.label, at));
        }
        for (let s = 0; s <= 40; s++) {
          const d = plain.get(s);
          expect(cols.has(s)).toBe(d !== undefined);
          expect(cols.ranked(s, 1.8e12)).toEqual(d?.ranked(1.8e12) ?? []);
          for (const l of ['a', 'b', 'c', 'd', 'e'])
            expect(cols.valueAt(s, l, 1.8e12)).toBe(d?.valueAt(l, 1.8e12) ?? 0);
        }
      }),
    );
  });
});
