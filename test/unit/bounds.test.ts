import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdMap } from '../../models/core/id-map.js';
import { LruMap } from '../../models/core/lru-map.js';
import type { ClickEvent } from '../../models/event.js';
import { PrequentialEvaluator } from '../../models/prequential.js';
import { PurchaseHistory } from '../../models/purchase-history.js';
import { CatalogState } from '../../models/ranking/policy.js';
import { RECOMMENDER_NAMES, createRecommender } from '../../models/registry.js';

const ev = (
  n: number,
  user: string,
  item: string,
  type: ClickEvent['type'] = 'view',
): ClickEvent => ({
  eventId: `e${n}`,
  ts: 1_700_000_000_000 + n * 1000,
  userId: user,
  itemId: item,
  type,
});

describe('LruMap', () => {
  it('never holds more than its capacity and forgets the least recently used first (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 })), { maxLength: 300 }),
        (cap, ops) => {
          const m = new LruMap<number, number>(cap);
          const order: number[] = []; // brute force: most recent last
          const touch = (k: number): void => {
            const at = order.indexOf(k);
            if (at >= 0) order.splice(at, 1);
            order.push(k);
          };
          for (const [write, k] of ops) {
            if (write) {
              m.set(k, k);
              touch(k);
              while (order.length > cap) order.shift();
            } else if (m.get(k) !== undefined) touch(k);
            expect(m.size).toBeLessThanOrEqual(cap);
          }
          expect([...m.keys()]).toEqual(order);
        },
      ),
    );
  });
});

describe('IdMap limits', () => {
  it('recycling keeps ids unique and numbers within the cap, and tells the hooks (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 400 }),
        (cap, ids) => {
          const m = new IdMap();
          m.setLimit(cap, 'recycle');
          const owner = new Map<number, string>();
          m.onRecycle((i) => owner.delete(i));
          for (const n of ids) {
            const id = `u${n}`;
            const i = m.intern(id);
            expect(i).toBeGreaterThanOrEqual(0);
            expect(i).toBeLessThan(cap);
            const prev = owner.get(i);
            // a number names one id at a time: either this id already, or a fresh (reset) row
            expect(prev === undefined || prev === id).toBe(true);
            owner.set(i, id);
            expect(m.name(i)).toBe(id);
          }
          expect(m.size).toBeLessThanOrEqual(cap);
          for (const [i, id] of owner) expect(m.get(id)).toBe(i);
        },
      ),
    );
  });

  it('recycles an id not used since the last sweep before one that was', () => {
    const m = new IdMap();
    m.setLimit(3, 'recycle');
    for (const id of ['a', 'b', 'c']) m.intern(id);
    m.intern('d'); // the sweep clears every bit and takes a
    m.get('b'); // b used again
    m.intern('e'); // c is the first unused one
    expect(['b', 'd', 'e'].every((id) => m.get(id) >= 0)).toBe(true);
    expect(m.get('a')).toBe(-1);
    expect(m.get('c')).toBe(-1);
  });

  it('refuses new ids once full when asked to, counting them', () => {
    const m = new IdMap();
    m.setLimit(2, 'refuse');
    expect([m.intern('x'), m.intern('y'), m.intern('z'), m.intern('x')]).toEqual([0, 1, -1, 0]);
    expect(m.refused).toBe(1);
  });
});

describe('models under limits.users / limits.items', () => {
  it.each(RECOMMENDER_NAMES)(
    '%s keeps at most the configured users and items and still serves',
    (name) => {
      const rec = createRecommender(name, {}, { users: 50, items: 30, tokens: 100 });
      for (let n = 0; n < 3_000; n++)
        rec.learn(
          ev(n, `user-${n % 400}`, `item-${(n * 7) % 60}`, n % 9 === 0 ? 'purchase' : 'view'),
        );
      rec.learnItem?.({ itemId: 'item-1', ts: 1, title: 'red mug', category: 'kitchen' });
      const ctx = (rec as unknown as { ctx: { users: IdMap; items: IdMap } }).ctx;
      expect(ctx.users.size).toBeLessThanOrEqual(50);
      expect(ctx.items.size).toBeLessThanOrEqual(30);
      expect(ctx.users.recycled).toBeGreaterThan(0);
      expect(ctx.items.refused).toBeGreaterThan(0);
      for (const user of ['user-399', 'user-0', 'never-seen']) {
        const recs = rec.recommend(user, 10, new Set());
        for (const r of recs) {
          expect(Number.isFinite(r.score)).toBe(true);
          expect(ctx.items.get(r.itemId)).toBeGreaterThanOrEqual(0);
        }
      }
      // a snapshot of a bounded model restores
      const copy = createRecommender(name, {}, { users: 50, items: 30, tokens: 100 });
      copy.restore(rec.snapshot());
      expect(copy.recommend('user-399', 10, new Set())).toEqual(
        rec.recommend('user-399', 10, new Set()),
      );
    },
  );
});

describe('per-user state outside the model', () => {
  it('PurchaseHistory keeps at most `users` users and `perUser` purchases each, newest kept', () => {
    const forgotten: string[] = [];
    const h = new PurchaseHistory({ users: 3, perUser: 2, onForget: (u) => forgotten.push(u) });
    for (let n = 0; n < 5; n++) h.record(ev(n, `u${n}`, 'i', 'purchase'));
    expect(h.users).toBe(3);
    expect(forgotten).toEqual(['u0', 'u1']);
    for (const item of ['a', 'b', 'c']) h.record(ev(9, 'u4', item, 'purchase'));
    expect([...h.boughtBy('u4')]).toEqual(['b', 'c']);
  });

  it('the prequential evaluator remembers at most maxUsers users', () => {
    const e = new PrequentialEvaluator(5, { maxUsers: 10 });
    const rec = createRecommender('popular');
    for (let n = 0; n < 500; n++) e.step(ev(n, `u${n}`, `i${n % 5}`, 'purchase'), rec);
    expect((e as unknown as { users: LruMap<string, unknown> }).users.size).toBe(10);
  });

  it('CatalogState remembers at most maxItems items', () => {
    const c = new CatalogState(100);
    for (let n = 0; n < 1_000; n++)
      c.observeItem({ itemId: `i${n}`, ts: n, category: 'c', inStock: n % 2 === 0 });
    expect(c.size).toBeLessThanOrEqual(200);
    expect(c.categoryOf('i999')).toBe('c');
    expect(c.categoryOf('i0')).toBeUndefined();
  });
});
