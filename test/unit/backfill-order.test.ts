import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BackfillOrder, type BackfillScores } from '../../models/core/backfill-order.js';
import { Ranker } from '../../models/core/context.js';
import { IdMap } from '../../models/core/id-map.js';

/** The plain scan the cache replaces: every non-candidate offered with its backfill score. */
function scan(r: Ranker, s: BackfillScores, items: IdMap, ex: Set<string>, stamp: Int32Array) {
  for (let c = 0; c < items.size; c++) {
    if (stamp[c] === 1) continue;
    const v = (s.trend ? s.wt * s.trend[c] : 0) + (s.pop ? s.wp * s.pop[c] : 0);
    r.offer(c, v, items, ex);
  }
}

function ranked(r: Ranker, items: IdMap): string[] {
  return r.finish(items, () => '').map((x) => `${x.itemId}:${x.score}`);
}

describe('BackfillOrder', () => {
  it('gives the plain scan’s list for every call of a generation, cached or not', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(
          fc.record({
            k: fc.integer({ min: 0, max: 40 }),
            cands: fc.array(fc.nat(), { maxLength: 10 }),
            excluded: fc.array(fc.nat(), { maxLength: 6 }),
            // the model learned since the last call: a new generation (they only increase)
            learned: fc.boolean(),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.integer({ min: 1, max: 10_000 }),
        (n, depth, levels, calls, seed) => {
          const items = new IdMap();
          for (let c = 0; c < n; c++) items.intern(`i${c}`);
          // few distinct levels force ties, which must resolve by id as in the scan
          let x = seed;
          const draw = (): number => {
            x = (x * 1103515245 + 12345) % 2147483648;
            return levels > 0 ? x % (levels + 1) : x / 2147483648;
          };
          const scoresOf = (): BackfillScores => ({
            trend: Float64Array.from({ length: n }, draw),
            wt: 0.5,
            pop: Float64Array.from({ length: n }, draw),
            wp: 0.25,
          });
          let gen = 0;
          let s = scoresOf();
          const order = new BackfillOrder(depth);
          for (const call of calls) {
            if (call.learned) {
              gen++;
              s = scoresOf();
            }
            const stamp = new Int32Array(n);
            const a = new Ranker();
            const b = new Ranker();
            a.begin(call.k);
            b.begin(call.k);
            for (const c of call.cands) {
              if (c >= n || stamp[c] === 1) continue;
              stamp[c] = 1;
              a.offer(c, 10 + c, items, new Set());
              b.offer(c, 10 + c, items, new Set());
            }
            const ex = new Set(call.excluded.map((c) => `i${c % n}`));
            scan(a, s, items, ex, stamp);
            order.fill(b, s, items, ex, stamp, 1, gen);
            expect(ranked(b, items)).toEqual(ranked(a, items));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
