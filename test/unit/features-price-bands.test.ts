import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PriceBands } from '../../features/price-bands.js';

describe('PriceBands: a few (band, weight) pairs per slot', () => {
  it('gives the weights and best band a full row per slot gives, across spills and resets', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        slot: fc.integer({ min: 0, max: 30 }),
        band: fc.integer({ min: 0, max: 10 }),
        w: fc.constantFrom(1, 2, 0.5, 3e-300),
      }),
      fc.record({
        kind: fc.constant('scale' as const),
        slot: fc.integer({ min: 0, max: 30 }),
        k: fc.constantFrom(0.5, 0.999, 1e-200, 0),
      }),
      fc.record({ kind: fc.constant('reset' as const), slot: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const N = 11;
        const cols = new PriceBands(N);
        const rows = new Float64Array(31 * N);
        for (let s = 0; s <= 30; s++) cols.reset(s);
        const bestOf = (s: number): number => {
          let best = 0;
          for (let i = 1; i < N; i++) if (rows[s * N + i] > rows[s * N + best]) best = i;
          return best;
        };
        for (const o of ops) {
          if (o.kind === 'reset') {
            cols.reset(o.slot);
            rows.fill(0, o.slot * N, (o.slot + 1) * N);
          } else if (o.kind === 'scale') {
            cols.scale(o.slot, o.k);
            for (let i = 0; i < N; i++) rows[o.slot * N + i] *= o.k;
          } else {
            cols.add(o.slot, o.band, o.w);
            rows[o.slot * N + o.band] += o.w;
          }
          expect(cols.best(o.slot)).toBe(bestOf(o.slot));
        }
        for (let s = 0; s <= 30; s++) expect(cols.best(s)).toBe(bestOf(s));
      }),
    );
  });
});
