import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelContext } from '../../models/core/context.js';
import { DAY_MS, TYPE_CODE, weightTable } from '../../models/core/weights.js';
import type { ClickEvent, EventType } from '../../models/event.js';
import { HybridRecommender } from '../../models/hybrid.js';
import { INTENT_EVENT_WEIGHTS, SessionIntent } from '../../models/intent.js';

const T0 = Date.UTC(2024, 0, 1);
const CATS = ['HOME', 'GARDEN', 'TOYS'];
const catOf = (item: number): string => CATS[item % CATS.length]!;
/** the scenario's catalog: i0..i59 by catOf, i997..i999 TOYS */
const catOfId = (id: string): string =>
  Number(id.slice(1)) >= 997 ? 'TOYS' : catOf(Number(id.slice(1)));
const TYPES: EventType[] = ['view', 'click', 'add_to_cart', 'purchase', 'remove_from_cart'];

interface Ev {
  user: number;
  item: number;
  type: EventType;
  gapMin: number;
}

const OPTS = {
  halfLifeDays: 1,
  perCategory: 3,
  slots: 3,
  eventDecay: 0.5,
  sessionDecay: 0.3,
  sessionGapMinutes: 60,
};

/** The intent's candidates and scores re-derived from the whole history (no eviction: slots = categories). */
function bruteForce(events: readonly ClickEvent[], user: string): Map<string, number> {
  const w = weightTable(INTENT_EVENT_WEIGHTS);
  const weight = (e: ClickEvent): number => Math.max(0, w[TYPE_CODE[e.type]]!);
  const origin = events[0]!.ts;
  const mass = new Map<string, number>();
  for (const e of events) {
    const v = weight(e) * 2 ** ((e.ts - origin) / (OPTS.halfLifeDays * DAY_MS));
    if (v > 0) mass.set(e.itemId, (mass.get(e.itemId) ?? 0) + v);
  }
  // a category's share: its events' weights, each times the decays of the user's later events
  const mine = events.filter((e) => e.userId === user && weight(e) > 0);
  const share = new Map<string, number>();
  mine.forEach((e, t) => {
    let v = weight(e);
    for (let f = t + 1; f < mine.length; f++) {
      v *= OPTS.eventDecay;
      if (mine[f]!.ts - mine[f - 1]!.ts > OPTS.sessionGapMinutes * 60_000) v *= OPTS.sessionDecay;
    }
    share.set(catOf(Number(e.itemId)), (share.get(catOf(Number(e.itemId))) ?? 0) + v);
  });
  const total = [...share.values()].reduce((a, b) => a + b, 0);
  const out = new Map<string, number>();
  for (const [cat, s] of share) {
    const top = [...mass]
      .filter(([item]) => catOf(Number(item)) === cat)
      .sort((a, b) => b[1] - a[1])
      .slice(0, OPTS.perCategory);
    for (const [item, m] of top) out.set(item, ((s / total) * m) / top[0]![1]);
  }
  return out;
}

describe('SessionIntent', () => {
  it('scores the top items of the recent categories like a from-scratch recomputation', () => {
    const ev = fc.record({
      user: fc.integer({ min: 0, max: 2 }),
      item: fc.integer({ min: 0, max: 11 }),
      type: fc.constantFrom(...TYPES),
      gapMin: fc.integer({ min: 1, max: 600 }),
    });
    fc.assert(
      fc.property(fc.array(ev, { minLength: 1, maxLength: 60 }), (raw: Ev[]) => {
        const ctx = new ModelContext();
        const intent = new SessionIntent(OPTS, ctx);
        for (let item = 0; item < 12; item++)
          intent.learnItem({ itemId: String(item), ts: T0, category: catOf(item) });
        let ts = T0;
        const events = raw.map((r, n): ClickEvent => {
          ts += r.gapMin * 60_000;
          return {
            eventId: `e${n}`,
            ts,
            userId: `u${r.user}`,
            itemId: String(r.item),
            type: r.type,
          };
        });
        for (const e of events)
          intent.observe(ctx.users.intern(e.userId), ctx.items.intern(e.itemId), e);
        for (let u = 0; u < 3; u++) {
          const want = bruteForce(events, `u${u}`);
          const row = ctx.users.get(`u${u}`);
          const n = intent.collect(row);
          const got = new Map<string, number>();
          for (let t = 0; t < n; t++) {
            const c = intent.candidate(t);
            got.set(ctx.items.name(c), intent.score(c));
          }
          expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
          for (const [item, v] of want) expect(got.get(item)).toBeCloseTo(v, 9);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('lets the current session outweigh a long history in another category', () => {
    const learn = (rec: HybridRecommender): void => {
      for (let item = 0; item < 60; item++)
        rec.learnItem({ itemId: `i${item}`, ts: T0, category: catOf(item) });
      let n = 0;
      // three weeks of everyone (and u0) buying HOME things together; others also browse TOYS
      for (let day = 0; day < 21; day++)
        for (let u = 0; u < 20; u++) {
          const cat = u === 0 || u % 2 === 0 ? 0 : 2;
          for (let k = 0; k < 3; k++) {
            const item = `i${cat + 3 * ((day * 7 + u * 5 + k * 11) % 20)}`;
            rec.learn({
              eventId: `e${n++}`,
              ts: T0 + day * DAY_MS + u * 60_000 + k * 1000,
              userId: `u${u}`,
              itemId: item,
              type: 'purchase',
            });
          }
        }
      // today u0 browses three TOYS items new to the shop: no co-visitation leads on from them
      for (const item of ['i997', 'i998', 'i999']) {
        rec.learnItem({ itemId: item, ts: T0 + 21 * DAY_MS, category: 'TOYS' });
        rec.learn({
          eventId: item,
          ts: T0 + 21 * DAY_MS + n++,
          userId: 'u0',
          itemId: item,
          type: 'view',
        });
      }
    };
    const withIntent = new HybridRecommender();
    learn(withIntent);
    const recs = withIntent.recommend('u0', 5, new Set());
    expect(recs.map((r) => catOfId(r.itemId))).toEqual(Array(5).fill('TOYS'));
    expect(recs.some((r) => r.reason === 'popular now in TOYS')).toBe(true);

    const without = new HybridRecommender({ weights: { intent: 0 } });
    learn(without);
    const old = without.recommend('u0', 5, new Set());
    expect(old.filter((r) => catOfId(r.itemId) === 'HOME').length).toBeGreaterThan(0);
  });

  it('forgets an erased user and survives a snapshot', () => {
    const rec = new HybridRecommender();
    for (let item = 0; item < 12; item++)
      rec.learnItem({ itemId: String(item), ts: T0, category: catOf(item) });
    for (let n = 0; n < 40; n++)
      rec.learn({
        eventId: `e${n}`,
        ts: T0 + n * 60_000,
        userId: `u${n % 4}`,
        itemId: String((n * 7) % 12),
        type: 'view',
      });
    const copy = new HybridRecommender();
    copy.restore(rec.snapshot());
    expect(copy.recommend('u1', 10, new Set())).toEqual(rec.recommend('u1', 10, new Set()));

    const row = rec.ctx.users.get('u1');
    expect(rec.intent!.collect(row)).toBeGreaterThan(0);
    rec.ctx.forgetUser('u1');
    expect(rec.ctx.users.intern('newcomer')).toBe(row);
    expect(rec.intent!.collect(row)).toBe(0);
  });
});
