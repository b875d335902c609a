import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EVENT_TYPES, type ClickEvent } from '../../models/event.js';
import { FeatureStore } from '../../features/feature-store.js';
import { DEFAULT_FEATURE_CONFIG, type WindowDef } from '../../features/config.js';
import { DEFAULT_EVENT_WEIGHTS } from '../../models/core/weights.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);

/** In-order streams over a few hours: nothing is late, so every event must be in the reads. */
const streamArb = fc
  .array(
    fc.record({
      step: fc.integer({ min: 0, max: 20 * MIN }),
      user: fc.constantFrom('u1', 'u2', 'u3'),
      item: fc.constantFrom('i1', 'i2', 'i3', 'i4'),
      type: fc.constantFrom(...EVENT_TYPES),
      cut: fc.boolean(),
    }),
    { minLength: 1, maxLength: 120 },
  )
  .map((raw) => {
    let t = T0;
    const batches: ClickEvent[][] = [[]];
    raw.forEach((r, i) => {
      t += r.step;
      const category = `c${Number(r.item.slice(1)) % 2}`;
      batches[batches.length - 1].push({
        eventId: `e${i}`,
        ts: t,
        userId: r.user,
        itemId: r.item,
        type: r.type,
        category,
      });
      if (r.cut) batches.push([]);
    });
    return batches;
  });

/** The window a read must use: earliest aligned start containing asOf that holds an event of the key. */
function expectedWindow(events: ClickEvent[], def: WindowDef, asOf: number): ClickEvent[] {
  const last = Math.floor(asOf / def.slideMs) * def.slideMs;
  for (let s = last - def.sizeMs + def.slideMs; s <= last; s += def.slideMs) {
    const inside = events.filter((e) => e.ts >= s && e.ts < s + def.sizeMs);
    if (inside.length > 0) return inside;
  }
  return [];
}

describe('FeatureStore reads against a brute-force recomputation', () => {
  it('per-user, per-item and per-category window counts, distincts and decayed affinity', () => {
    fc.assert(
      fc.property(streamArb, (batches) => {
        const store = new FeatureStore();
        for (const b of batches) store.ingest(b);
        const all = batches.flat();
        const asOf = Math.max(...all.map((e) => e.ts));
        for (const user of ['u1', 'u2', 'u3']) {
          const mine = all.filter((e) => e.userId === user);
          const f = store.userFeatures(user);
          if (mine.length === 0) {
            expect(f).toBeUndefined();
            continue;
          }
          for (const def of DEFAULT_FEATURE_CONFIG.userWindows) {
            const inside = expectedWindow(mine, def, asOf);
            const w = f!.windows[def.label];
            expect(w.total).toBe(inside.length);
            for (const t of EVENT_TYPES)
              expect(w.counts[t]).toBe(inside.filter((e) => e.type === t).length);
            expect(w.distinctItems).toBe(new Set(inside.map((e) => e.itemId)).size);
          }
          expect(f!.lastEventTs).toBe(Math.max(...mine.map((e) => e.ts)));
          const half = DEFAULT_FEATURE_CONFIG.affinityHalfLifeMs;
          for (const { category, score } of f!.categoryAffinity) {
            const expected = mine
              .filter((e) => e.category === category)
              .reduce(
                (s, e) => s + DEFAULT_EVENT_WEIGHTS[e.type] * 2 ** (-(asOf - e.ts) / half),
                0,
              );
            expect(score).toBeCloseTo(expected, 9);
          }
        }
        for (const item of ['i1', 'i2', 'i3', 'i4']) {
          const mine = all.filter((e) => e.itemId === item);
          const f = store.itemFeatures(item);
          if (mine.length === 0) continue;
          for (const def of DEFAULT_FEATURE_CONFIG.itemWindows) {
            const inside = expectedWindow(mine, def, asOf);
            const w = f!.windows[def.label];
            expect([w.views, w.carts, w.purchases, w.events]).toEqual([
              inside.filter((e) => e.type === 'view').length,
              inside.filter((e) => e.type === 'add_to_cart').length,
              inside.filter((e) => e.type === 'purchase').length,
              inside.length,
            ]);
            expect(w.distinctUsers).toBe(new Set(inside.map((e) => e.userId)).size);
          }
        }
        for (const cat of ['c0', 'c1']) {
          const mine = all.filter((e) => e.category === cat);
          if (mine.length === 0) continue;
          const f = store.categoryFeatures(cat);
          for (const def of DEFAULT_FEATURE_CONFIG.categoryWindows) {
            const inside = expectedWindow(mine, def, asOf);
            const pop = inside.reduce((s, e) => s + DEFAULT_EVENT_WEIGHTS[e.type], 0);
            expect(f?.windows[def.label].events ?? 0).toBe(inside.length);
            expect(f?.windows[def.label].popularity ?? 0).toBeCloseTo(pop, 9);
          }
        }
        expect(store.stats().lateEvents).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
