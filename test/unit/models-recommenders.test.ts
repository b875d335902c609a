import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type ClickEvent } from '../../models/event.js';
import { HybridRecommender } from '../../models/hybrid.js';
import { ItemKnnRecommender } from '../../models/itemknn.js';
import { RECOMMENDER_NAMES, createRecommender } from '../../models/registry.js';
import { TrendingRecommender } from '../../models/trending.js';

/** Deterministic synthetic clickstream: users browse within "their" category, all event types. */
function stream(count: number, seed: number, offset = 0): ClickEvent[] {
  let s = seed;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const cats = ['HOME', 'GARDEN', 'TOYS', 'KITCHEN'];
  const out: ClickEvent[] = [];
  for (let n = 0; n < count; n++) {
    const u = Math.floor(rnd() * 30);
    const cat = (u + (rnd() < 0.2 ? 1 : 0)) % cats.length;
    const item = 10_000 + cat * 100 + Math.floor(rnd() * rnd() * 40);
    const type = rnd() < 0.5 ? 'purchase' : EVENT_TYPES[Math.floor(rnd() * EVENT_TYPES.length)];
    out.push({
      eventId: `e${offset + n}`,
      ts: Date.UTC(2024, 0, 1) + (offset + n) * 600_000,
      userId: `u${u}`,
      itemId: String(item),
      type,
      category: cats[cat],
      props: { title: `${['RED', 'BLUE', 'GREEN'][item % 3]} ${cats[cat]} THING ${item % 7}` },
    });
  }
  return out;
}

const USERS = Array.from({ length: 32 }, (_, u) => `u${u}`); // u30, u31 never seen

describe.each(RECOMMENDER_NAMES)('recommender %s', (name) => {
  it('never returns an excluded item, at most k, best first', () => {
    const rec = createRecommender(name);
    for (const e of stream(3000, 11)) rec.learn(e);
    for (const user of USERS) {
      const free = rec.recommend(user, 10, new Set());
      expect(free.length).toBeLessThanOrEqual(10);
      // exclude exactly what it would have recommended first, plus some unknown ids
      const exclude = new Set([...free.slice(0, 5).map((r) => r.itemId), 'nope', '10001']);
      const recs = rec.recommend(user, 10, exclude);
      expect(recs.length).toBeLessThanOrEqual(10);
      for (const r of recs) {
        expect(exclude.has(r.itemId)).toBe(false);
        expect(Number.isFinite(r.score)).toBe(true);
        expect(r.reason.length).toBeGreaterThan(0);
      }
      for (let t = 1; t < recs.length; t++)
        expect(recs[t - 1].score).toBeGreaterThanOrEqual(recs[t].score);
      expect(new Set(recs.map((r) => r.itemId)).size).toBe(recs.length);
    }
    expect(rec.recommend('u1', 0, new Set())).toEqual([]);
  });

  it('restores from a snapshot to identical recommendations, and keeps learning identically', () => {
    const a = createRecommender(name);
    const b = createRecommender(name);
    const first = stream(2000, 5);
    const second = stream(1000, 6, 2000);
    for (const e of first) a.learn(e);
    b.restore(a.snapshot());
    const excl = new Set(['10003', '10104']);
    for (const user of USERS)
      expect(b.recommend(user, 10, excl)).toEqual(a.recommend(user, 10, excl));
    for (const e of second) {
      a.learn(e);
      b.learn(e);
    }
    for (const user of USERS)
      expect(b.recommend(user, 10, excl)).toEqual(a.recommend(user, 10, excl));
    // a snapshot of the restored model is byte-identical to one of the original
    expect(Buffer.from(b.snapshot()).equals(Buffer.from(a.snapshot()))).toBe(true);
  });
});

describe('registry', () => {
  it('names the valid models when asked for an unknown one', () => {
    expect(() => createRecommender('nope')).toThrow(
      /unknown model "nope".*default, popular, trending, itemknn, mf, content/,
    );
  });

  it('refuses a snapshot of another model', () => {
    const pop = createRecommender('popular');
    expect(() => createRecommender('mf').restore(pop.snapshot())).toThrow(
      /snapshot is of model popular/,
    );
    expect(() => pop.restore(new Uint8Array([1, 2, 3]))).toThrow(/bad magic/);
  });
});

describe('reasons', () => {
  it('item-kNN says what the item goes with, and whether it was bought or viewed', () => {
    const knn = new ItemKnnRecommender();
    const e = (n: number, user: string, item: string, type: ClickEvent['type']): ClickEvent => ({
      eventId: `r${n}`,
      ts: 1_700_000_000_000 + n,
      userId: user,
      itemId: item,
      type,
    });
    [e(1, 'a', 'X', 'purchase'), e(2, 'a', 'Y', 'purchase'), e(3, 'b', 'X', 'purchase')].forEach(
      (x) => knn.learn(x),
    );
    expect(knn.recommend('b', 1, new Set(['X']))[0]).toMatchObject({
      itemId: 'Y',
      reason: 'bought together with X',
    });
    knn.learn(e(4, 'c', 'X', 'view'));
    expect(knn.recommend('c', 1, new Set())[0]).toMatchObject({
      itemId: 'Y',
      reason: 'viewed together with X',
    });
  });

  it('trending names the category the user browses', () => {
    const t = new TrendingRecommender();
    const e = (n: number, user: string, item: string, category: string): ClickEvent => ({
      eventId: `t${n}`,
      ts: 1_700_000_000_000 + n,
      userId: user,
      itemId: item,
      type: 'purchase',
      category,
    });
    // the catalog names the items' categories; events alone never do (issue 12)
    t.learnItem({ itemId: 'HOT', ts: 1_700_000_000_000, category: 'TOYS' });
    t.learnItem({ itemId: 'CALM', ts: 1_700_000_000_000, category: 'GARDEN' });
    t.learnItem({ itemId: 'OTHER', ts: 1_700_000_000_000, category: 'GARDEN' });
    for (let n = 0; n < 5; n++) t.learn(e(n, `x${n}`, 'HOT', 'TOYS'));
    t.learn(e(10, 'y', 'CALM', 'GARDEN'));
    t.learn(e(11, 'me', 'OTHER', 'GARDEN'));
    const recs = t.recommend('me', 2, new Set(['OTHER']));
    expect(recs.map((r) => r.reason)).toEqual(['trending now', 'trending in GARDEN']);
    expect(recs[0].itemId).toBe('HOT');
  });

  it('the hybrid fills the list from popularity when it has too few candidates', () => {
    const h = new HybridRecommender();
    for (const e of stream(500, 3)) h.learn(e);
    const catalogue = new Set(stream(500, 3).map((e) => e.itemId));
    for (const user of ['u1', 'new-user']) {
      const recs = h.recommend(user, catalogue.size, new Set(['10000']));
      expect(recs.length).toBe(catalogue.size - 1);
      expect(recs.some((r) => r.reason === 'popular now')).toBe(true);
    }
  });

  it('the hybrid re-surfaces what the user carted but did not buy', () => {
    const h = new HybridRecommender();
    const base = { ts: 1_700_000_000_000, type: 'view' as const };
    h.learn({ ...base, eventId: '1', userId: 'o', itemId: 'A', type: 'purchase' });
    h.learn({ ...base, eventId: '2', userId: 'me', itemId: 'C', type: 'add_to_cart' });
    const recs = h.recommend('me', 5, new Set());
    expect(recs.find((r) => r.itemId === 'C')?.reason).toBe('still in your cart');
  });
});
