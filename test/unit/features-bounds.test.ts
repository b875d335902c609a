import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EVENT_TYPES, type ClickEvent } from '../../models/event.js';
import { FeatureStore } from '../../features/feature-store.js';
import { EntityIndex } from '../../features/entity-index.js';
import { HashDistinct, idHash } from '../../features/hash-distinct.js';
import type { FeatureEntity } from '../../features/types.js';
import { sessionAggregator } from '../../features/session-activity.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 1);
const ev = (i: number, userId: string, itemId: string, min: number, category?: string) =>
  ({
    eventId: `e${i}`,
    ts: T0 + min * MIN,
    userId,
    itemId,
    type: EVENT_TYPES[i % EVENT_TYPES.length],
    price: 1 + (i % 30),
    ...(category !== undefined && { category }),
  }) as ClickEvent;

describe('feature store bounds', () => {
  it('holds at most maxUsers / maxItems / maxCategories keys, forgetting the least recently touched', () => {
    const store = new FeatureStore({ maxUsers: 50, maxItems: 20, maxCategories: 5 });
    const events: ClickEvent[] = [];
    for (let i = 0; i < 2_000; i++) {
      events.push(ev(i, `u${i}`, `i${i}`, i / 100, `c${i}`));
      if (events.length === 100) store.ingest(events.splice(0));
    }
    const s = store.stats();
    expect(s.users).toBe(50);
    expect(s.items).toBe(20);
    expect(s.categories).toBe(5);
    expect(s.evicted).toBe(2_000 - 50 + 2_000 - 20 + 2_000 - 5);
    expect(store.userFeatures('u1')).toBeUndefined();
    expect(store.itemFeatures('i1')).toBeUndefined();
    expect(store.categoryFeatures('c1')).toBeUndefined();
    // every family holds panes of held keys only
    for (const [name, f] of Object.entries(s.families)) {
      const cap =
        name.startsWith('user') || name === 'session' ? 50 : name.startsWith('item') ? 20 : 5;
      expect(f.keys).toBeLessThanOrEqual(cap);
    }
    // the newest user is complete: nothing of an evicted key leaked into its recycled slot
    const last = store.userFeatures('u1999');
    expect(last?.windows['24h']?.total).toBe(1);
    expect(store.itemFeatures('i1999')?.windows['24h']?.distinctUsers).toBe(1);
  });

  it('drops keys idle longer than stateTtlMs of event time', () => {
    const store = new FeatureStore({ stateTtlMs: 60 * MIN });
    store.ingest([ev(0, 'old', 'x', 0, 'c')]);
    store.ingest([ev(1, 'new', 'y', 600, 'd')]);
    store.ingest([ev(2, 'new', 'y', 700, 'd')]);
    expect(store.stats().users).toBe(1);
    expect(store.userFeatures('old')).toBeUndefined();
    expect(store.itemFeatures('x')).toBeUndefined();
    expect(store.categoryFeatures('c')).toBeUndefined();
  });

  it('exported window state restores identical reads in a fresh store', () => {
    const arb = fc.array(
      fc.record({
        user: fc.integer({ min: 0, max: 5 }),
        item: fc.integer({ min: 0, max: 3 }),
        step: fc.integer({ min: 0, max: 20 * MIN }),
      }),
      { minLength: 1, maxLength: 80 },
    );
    fc.assert(
      fc.property(arb, (raw) => {
        const a = new FeatureStore();
        let min = 0;
        const events = raw.map((r, i) => {
          min += r.step / MIN;
          return ev(i, `u${r.user}`, `i${r.item}`, min, `c${r.item % 2}`);
        });
        // an item seen by many users, so its windows hold a sketch
        for (let u = 0; u < 100; u++) events.push(ev(1000 + u, `w${u}`, 'busy', min, 'c0'));
        a.ingest(events);
        const b = new FeatureStore();
        for (const entity of ['user', 'item', 'category'] as FeatureEntity[]) {
          a.forEachKey(entity, (id) => {
            const w = a.exportWindows(entity, id);
            if (w) b.restoreWindows(entity, id, a.maxEventTs, w);
          });
        }
        const asOf = a.maxEventTs;
        a.forEachKey('user', (id) =>
          expect(b.userFeatures(id, asOf)?.windows).toEqual(a.userFeatures(id, asOf)?.windows),
        );
        a.forEachKey('item', (id) =>
          expect(b.itemFeatures(id, asOf)?.windows).toEqual(a.itemFeatures(id, asOf)?.windows),
        );
        a.forEachKey('category', (id) =>
          expect(b.categoryFeatures(id, asOf)).toEqual(a.categoryFeatures(id, asOf)),
        );
        expect(b.itemFeatures('busy', asOf)?.windows['1h']?.distinctUsers).toBe(
          a.itemFeatures('busy', asOf)?.windows['1h']?.distinctUsers,
        );
      }),
      { numRuns: 40 },
    );
  });
});

describe('EntityIndex', () => {
  it('recycles the slot of a key not touched since the clock hand passed it', () => {
    const evicted: string[] = [];
    const idx = new EntityIndex(3, (_slot, id) => evicted.push(id));
    idx.touch('a', 1);
    idx.touch('b', 2);
    idx.touch('c', 3);
    idx.touch('d', 4); // all referenced: the hand clears a, b, c, then takes a
    expect(evicted).toEqual(['a']);
    idx.touch('b', 5); // b referenced again
    idx.touch('e', 6); // the hand is at b (referenced: spared), c goes
    expect(evicted).toEqual(['a', 'c']);
    expect(idx.size).toBe(3);
    expect(idx.slotOf('b')).toBeDefined();
    expect(idx.sweep(5)).toBe(1); // d (4) is idle past the cutoff; b (5) and e (6) stay
    expect(evicted).toEqual(['a', 'c', 'd']);
  });
});

describe('HashDistinct', () => {
  it('is exact up to the limit, then within the HyperLogLog error; forgets exact hashes', () => {
    const d = new HashDistinct(10, 64);
    for (let i = 0; i < 64; i++) d.add(idHash(`user-${i}`));
    d.add(idHash('user-0'));
    expect(d.exact).toBe(true);
    expect(d.estimate()).toBe(64);
    expect(d.forget(idHash('user-3'))).toBe(true);
    expect(d.estimate()).toBe(63);
    for (let i = 64; i < 20_000; i++) d.add(idHash(`user-${i}`));
    expect(d.exact).toBe(false);
    // three standard errors (1.04 / sqrt(1024) each) of the true count
    expect(Math.abs(d.estimate() - 20_000) / 20_000).toBeLessThan(3 * (1.04 / 32));
    expect(d.forget(idHash('user-5'))).toBe(false);
  });
});

describe('sessionAggregator', () => {
  it('counts distinct items exactly through adds and merges (brute force)', () => {
    const agg = sessionAggregator(10, 64);
    const part = fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 12 });
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), (parts) => {
        const accs = parts.map((items, p) => {
          let acc = agg.create(0, 1);
          items.forEach((i, k) => (acc = agg.add(acc, ev(k, 'u', `i${i}`, p * 10 + k), T0)));
          return acc;
        });
        const merged = accs.reduce((a, b) => agg.merge(a, b), agg.create(0, 1));
        const r = agg.result(merged);
        expect(r.distinct).toBe(new Set(parts.flat()).size);
        expect(r.total).toBe(parts.flat().length);
      }),
      { numRuns: 300 },
    );
  });
});
