import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { FeatureStore } from '../../features/feature-store.js';
import type { ClickEvent, EventType } from '../../models/event.js';
import { PopularRecommender } from '../../models/popular.js';
import { PurchaseHistory } from '../../models/purchase-history.js';
import { decidePushes } from '../../operators/decide-pushes.js';
import { learnAndRecommend } from '../../operators/learn-and-recommend.js';
import { updateFeatures } from '../../operators/update-features.js';
import type { GraphBatch, SourcedEvent } from '../../operators/types.js';
import type { PushPayload } from '../../push/types.js';
import { HOUR, MIN, T0, batch as pushBatch, engine, ev as pushEv, line } from './push-fixtures.js';

/**
 * Marble tests of the graph's stateful middle (updateFeatures, learnAndRecommend, decidePushes),
 * the diagrams of their doc comments; operator-marbles.test.ts has the privacy and ranking ones.
 */
const ev = (id: string, userId: string, type: EventType, itemId: string, ts: number) => ({
  event: { eventId: id, ts, userId, itemId, type } satisfies ClickEvent,
  topic: 'events',
  partition: 0,
  offset: ts,
});
const batch = (seq: number, events: SourcedEvent[]): GraphBatch => ({
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
});
const scheduler = (): TestScheduler => new TestScheduler((a, b) => expect(a).toEqual(b));

describe('graph operator marbles', () => {
  it('updateFeatures: a window’s row comes out when the watermark closes it; a late event is counted, not added', () => {
    // One tumbling user window of an hour, no out-of-orderness or lateness: the watermark is the
    // newest event time, so a window closes as soon as an event past its end arrives.
    const store = new FeatureStore({
      userWindows: [{ label: '1h', sizeMs: HOUR, slideMs: HOUR }],
      outOfOrdernessMs: 0,
      allowedLatenessMs: 0,
    });
    const t = 10 * HOUR;
    const userRows = (b: GraphBatch) => ({
      watermark: b.watermark,
      late: b.lateFeatureEvents,
      windows: b.features
        .filter((s) => s.entity === 'user' && s.family === 'user_1h')
        .map((s) => {
          const v = (name: string) => s.values[s.names.indexOf(name)];
          return `${(s.windowStart - t) / HOUR}h view=${v('view_1h')} cart=${v('add_to_cart_1h')}`;
        }),
      sessions: b.features.filter((s) => s.family === 'session' && s.final).map((s) => s.key),
    });
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-b-c|', {
        a: batch(0, [ev('a', 'u1', 'view', 'i1', t + 1)]),
        b: batch(1, [ev('b', 'u1', 'add_to_cart', 'i1', t + HOUR + 1)]),
        c: batch(2, [ev('c', 'u1', 'view', 'i1', t + 2)]),
      }).pipe(updateFeatures(store, { idlePartitionMs: 0 }), map(userRows));
      expectObservable(out).toBe('-a-b-c|', {
        // rows of open windows wait for the sink's read (takeChanged), so a emits none
        a: { watermark: t + 1, late: 0, windows: [], sessions: [] },
        // b's watermark closes a's window: u1's pending windows come out before the close, and
        // u1's session (30 min gap) ends
        b: {
          watermark: t + HOUR + 1,
          late: 0,
          windows: ['0h view=1 cart=0', '1h view=0 cart=1'],
          sessions: ['u1'],
        },
        // behind the watermark: late for u1's 1h window, the item's 1h window and the closed
        // session (the item's 24h windows still hold it); the watermark never moves back
        c: { watermark: t + HOUR + 1, late: 3, windows: [], sessions: [] },
      });
    });
  });

  it('learnAndRecommend: learns every event, serves each touched user once, never a bought item', () => {
    const recommender = new PopularRecommender();
    const learned: string[] = [];
    const op = learnAndRecommend({
      recommender,
      history: new PurchaseHistory(),
      topK: 10,
      modelVersion: 'popular@1',
      learn: (e) => {
        learned.push(e.eventId);
        recommender.learn(e);
      },
      // already held by the model (learned before a restore): served, not learned again
      shouldLearn: (s) => s.event.eventId !== 'held',
      now: () => 0,
    });
    const served = (b: GraphBatch) => ({
      recs: b.recommendations.map(
        (r) => `${r.userId}@${r.eventTs} ${r.modelVersion} [${r.items.map((i) => i.itemId)}]`,
      ),
      purchases: [...b.purchases].map(([u, items]) => `${u} [${items}]`),
      learned: learned.splice(0),
    });
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-b-c|', {
        a: batch(0, [
          ev('e1', 'u1', 'view', 'i1', 1),
          ev('e2', 'u1', 'view', 'i2', 2),
          ev('e3', 'u2', 'click', 'i1', 3),
        ]),
        b: batch(1, [ev('e4', 'u1', 'purchase', 'i1', 4), ev('held', 'u3', 'view', 'i3', 5)]),
        c: batch(2, []),
      }).pipe(op, map(served));
      expectObservable(out).toBe('-a-b-c|', {
        // i1 (a view and a click) outweighs i2 (a view); u1 once, at its newest event
        a: {
          recs: ['u1@2 popular@1 [i1,i2]', 'u2@3 popular@1 [i1,i2]'],
          purchases: [],
          learned: ['e1', 'e2', 'e3'],
        },
        // u1 bought i1: never recommended to u1 again; u3's event is served but not learned, so
        // i3 has no weight and is not in the list
        b: {
          recs: ['u1@4 popular@1 [i2]', 'u3@5 popular@1 [i1,i2]'],
          purchases: ['u1 [i1]'],
          learned: ['e4'],
        },
        c: { recs: [], purchases: [], learned: [] },
      });
    });
  });

  it('decidePushes: a cart fires once the watermark passes its wait, in the batch that moves it', () => {
    const cart = pushEv('add_to_cart', 'u1', 'i1', T0);
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-b-c|', {
        a: pushBatch({ events: [cart] }),
        b: pushBatch({ watermark: T0 + 10 * MIN }, 1),
        c: pushBatch({ watermark: T0 + HOUR }, 2),
      }).pipe(
        decidePushes(engine()),
        map((b) => ({
          pushes: (b.pushes ?? []).map(line),
          messages: (b.pushMessages ?? []).map((m) => {
            const payload = JSON.parse(m.value) as PushPayload;
            return `${m.key} ${payload.trigger}`;
          }),
        })),
      );
      expectObservable(out).toBe('-a-b-c|', {
        a: { pushes: [], messages: [] },
        b: { pushes: [], messages: [] },
        c: {
          pushes: ['sent abandoned_cart u1 [i1] @11-01 12:30 sent'],
          messages: ['u1 abandoned_cart'],
        },
      });
    });
  });
});
