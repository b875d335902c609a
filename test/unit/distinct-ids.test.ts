import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DistinctIds } from '../../sinks/distinct-ids.js';

describe('DistinctIds: distinct ids counted by 64-bit hashes', () => {
  it('counts what a Set of the ids counts, up to its capacity', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 6 }), { maxLength: 400 }),
        fc.integer({ min: 1, max: 500 }),
        (ids, cap) => {
          const d = new DistinctIds(cap);
          const seen = new Set<string>();
          for (const id of ids) {
            d.add(id);
            seen.add(id);
            expect(d.size).toBe(Math.min(seen.size, cap));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('tells 200,000 similar ids apart across table growth', () => {
    const d = new DistinctIds(1_000_000);
    for (let r = 0; r < 2; r++) for (let i = 0; i < 200_000; i++) d.add(`u${i}`);
    expect(d.size).toBe(200_000);
  });
});
