import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { ClickEvent } from '../../models/event.js';
import { CatalogState, DEFAULT_POLICY } from '../../models/ranking/policy.js';
import { diversifyRecommendations } from '../../operators/diversify-recommendations.js';
import { dropErased } from '../../operators/drop-erased.js';
import { filterRecommendations } from '../../operators/filter-recommendations.js';
import { hashUserIds, userIdHasher } from '../../operators/hash-user-ids.js';
import { restoreWithheld } from '../../operators/restore-withheld.js';
import { withholdOptedOut } from '../../operators/withhold-opted-out.js';
import type { GraphBatch, SourcedEvent } from '../../operators/types.js';
import { ConsentRegistry } from '../../privacy/consent.js';
import { ErasedUsers } from '../../privacy/erased-users.js';
import type { PreferenceUpdate } from '../../push/types.js';

/** Marble tests of the graph's operators, the diagrams of their doc comments. */
const ev = (userId: string, ts: number, id = `${userId}@${ts}`): SourcedEvent => ({
  event: { eventId: id, ts, userId, itemId: 'i1', type: 'view' } satisfies ClickEvent,
  topic: 'events',
  partition: 0,
  offset: ts,
});
const batch = (
  seq: number,
  events: SourcedEvent[],
  extra: Partial<GraphBatch> = {},
): GraphBatch => ({
  seq,
  commits: [],
  messages: events.length,
  events,
  items: [],
  duplicates: 0,
  deadLetters: [],
  recommendations: [],
  purchases: new Map(),
  features: [],
  lateFeatureEvents: 0,
  watermark: 0,
  ...extra,
});
const optOut = (userId: string, ts: number): PreferenceUpdate => ({
  userId,
  ts,
  channels: { push: true, email: true, in_app: true, sms: true },
  personalization: false,
});
const users = (b: GraphBatch) => ({
  users: b.events.map((e) => e.event.userId),
  withheld: (b.withheld ?? []).map((e) => e.event.userId),
});
const scheduler = (): TestScheduler => new TestScheduler((a, b) => expect(a).toEqual(b));

describe('operator marbles', () => {
  it('dropErased drops an erased user’s events up to the request, not later ones', () => {
    const erased = new ErasedUsers(10, 86_400_000, () => 0);
    erased.add('u1', 10);
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-b|', {
        a: batch(0, [ev('u1', 5), ev('u2', 5)]),
        b: batch(1, [ev('u1', 20)]),
      }).pipe(dropErased(erased), map(users));
      expectObservable(out).toBe('-a-b|', {
        a: { users: ['u2'], withheld: [] },
        b: { users: ['u1'], withheld: [] },
      });
    });
  });

  it('withholdOptedOut sets opted-out users aside from their batch on; restoreWithheld brings them back', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c|', {
        a: batch(0, [ev('u1', 1), ev('u2', 1)]),
        b: batch(1, [ev('u1', 2), ev('u2', 2)], { preferences: [optOut('u1', 2)] }),
        c: batch(2, [ev('u3', 3), ev('u1', 3)]),
      });
      const withheld = source.pipe(withholdOptedOut(new ConsentRegistry(10)));
      expectObservable(withheld.pipe(map(users))).toBe('-a-b-c|', {
        a: { users: ['u1', 'u2'], withheld: [] },
        b: { users: ['u2'], withheld: ['u1'] },
        c: { users: ['u3'], withheld: ['u1'] },
      });
      const restored = source.pipe(
        withholdOptedOut(new ConsentRegistry(10)),
        restoreWithheld(),
        map(users),
      );
      expectObservable(restored).toBe('-a-b-c|', {
        a: { users: ['u1', 'u2'], withheld: [] },
        b: { users: ['u2', 'u1'], withheld: [] },
        c: { users: ['u3', 'u1'], withheld: [] },
      });
    });
  });

  it('hashUserIds replaces user ids in events and preferences by their keyed pseudonym', () => {
    const h = userIdHasher('k');
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-b|', {
        a: batch(0, [ev('alice', 1), ev('bob', 1)]),
        b: batch(1, [ev('alice', 2)], { preferences: [optOut('alice', 2)] }),
      }).pipe(
        hashUserIds('k'),
        map((b) => ({ ...users(b), prefs: (b.preferences ?? []).map((p) => p.userId) })),
      );
      expectObservable(out).toBe('-a-b|', {
        a: { users: [h('alice'), h('bob')], withheld: [], prefs: [] },
        b: { users: [h('alice')], withheld: [], prefs: [h('alice')] },
      });
    });
  });

  const recs = (userId: string, ids: string[]) => ({
    userId,
    items: ids.map((itemId, i) => ({ itemId, score: 10 - i, reason: 'r' })),
    modelVersion: 'm',
    eventTs: 0,
    updatedAt: 0,
  });
  const lists = (b: GraphBatch) => b.recommendations.map((r) => r.items.map((i) => i.itemId));

  it('filterRecommendations drops items out of stock from their catalog event on, and repeats', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-b|', {
        a: batch(0, [], {
          items: [{ itemId: 'i2', ts: 0, inStock: false }],
          recommendations: [recs('u1', ['i1', 'i2', 'i3', 'i1'])],
        }),
        b: batch(1, [], { recommendations: [recs('u2', ['i2', 'i4'])] }),
      }).pipe(filterRecommendations(new CatalogState(100), DEFAULT_POLICY), map(lists));
      expectObservable(out).toBe('-a-b|', { a: [['i1', 'i3']], b: [['i4']] });
    });
  });

  it('diversifyRecommendations cuts to topK with at most maxPerCategory per category', () => {
    const catalog = new CatalogState(100);
    for (const [itemId, category] of [
      ['a1', 'A'],
      ['a2', 'A'],
      ['a3', 'A'],
      ['b1', 'B'],
    ])
      catalog.observeItem({ itemId: itemId as string, ts: 0, category: category as string });
    const policy = { ...DEFAULT_POLICY, maxPerCategory: 2 };
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-b|', {
        a: batch(0, [], { recommendations: [recs('u1', ['a1', 'a2', 'a3', 'b1'])] }),
        b: batch(1, [], { recommendations: [recs('u2', ['b1', 'x1', 'x2', 'x3'])] }),
      }).pipe(diversifyRecommendations(catalog, policy, 3), map(lists));
      expectObservable(out).toBe('-a-b|', { a: [['a1', 'a2', 'b1']], b: [['b1', 'x1', 'x2']] });
    });
  });
});
