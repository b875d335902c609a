import { describe, expect, it } from 'vitest';
import type { PushPayload } from '../../push/types.js';
import {
  DAY,
  HOUR,
  MIN,
  T0,
  batch,
  engine,
  ev,
  expectPushes,
  item,
  rec,
  runBatches,
} from './push-fixtures.js';

describe('abandoned cart', () => {
  it('fires once the watermark passes cart ts + 30 min of event time, not wall time', () => {
    const e = engine();
    expectPushes(
      e,
      'a-b-c|',
      {
        a: batch({ events: [ev('add_to_cart', 'u1', 'i1', T0)] }),
        // Activity 29 min later: the watermark (newest − 10 s) is short of the deadline.
        b: batch({ events: [ev('view', 'u2', 'x', T0 + 29 * MIN)] }),
        c: batch({ events: [ev('view', 'u2', 'x', T0 + 31 * MIN)] }),
      },
      'a-b-c|',
      { a: [], b: [], c: ['sent abandoned_cart u1 [i1] @11-01 12:30 sent'] },
    );
  });

  it('is cancelled by a removal or a purchase of that item, but not by an older purchase', () => {
    const e = engine();
    expectPushes(
      e,
      'a-b|',
      {
        a: batch({
          events: [
            ev('add_to_cart', 'u1', 'i1', T0),
            ev('add_to_cart', 'u2', 'i2', T0),
            ev('add_to_cart', 'u3', 'i3', T0),
            ev('remove_from_cart', 'u1', 'i1', T0 + 5 * MIN),
            ev('purchase', 'u2', 'i2', T0 + 20 * MIN),
            // Bought before this cart add (arrived late): the cart still stands.
            ev('purchase', 'u3', 'i3', T0 - 5 * MIN),
          ],
        }),
        b: batch({ events: [ev('view', 'u9', 'x', T0 + HOUR)] }),
      },
      'a-b|',
      { a: [], b: ['sent abandoned_cart u3 [i3] @11-01 12:30 sent'] },
    );
  });

  it('groups a user’s carts due together into one push, newest first, and a re-add restarts the wait', () => {
    const e = engine();
    expectPushes(
      e,
      'a-b-c|',
      {
        a: batch({
          events: [
            ev('add_to_cart', 'u1', 'i1', T0),
            ev('add_to_cart', 'u1', 'i2', T0 + MIN),
            ev('add_to_cart', 'u1', 'i3', T0 + 2 * MIN),
          ],
        }),
        b: batch({ events: [ev('add_to_cart', 'u1', 'i3', T0 + 20 * MIN)] }),
        c: batch({ events: [ev('view', 'u9', 'x', T0 + 3 * HOUR)] }),
      },
      'a-b-c|',
      {
        a: [],
        b: [],
        c: ['sent abandoned_cart u1 [i3,i2,i1] @11-01 12:50 sent'],
      },
    );
  });

  it('renders the payload from the catalog titles and prices', () => {
    const e = engine({ deepLink: 'shop://p/{item_id}?src=push' });
    const [, , out] = runBatches(e, [
      batch({ items: [item('i 1', T0 - DAY, { title: 'Red mug', price: 12.5 })] }),
      batch({ events: [ev('add_to_cart', 'u1', 'i 1', T0)] }),
      batch({ events: [ev('view', 'u2', 'x', T0 + HOUR)] }),
    ]);
    expect(out.pushes?.length).toBe(1);
    const msg = out.pushMessages?.[0];
    expect(msg?.key).toBe('u1');
    const p = JSON.parse(msg?.value ?? '') as PushPayload;
    const texts = {
      A: ['Still thinking it over?', 'Red mug (12.50) is waiting in your cart.'],
      B: [
        'You left something behind',
        'We kept Red mug (12.50) for you. Complete your order before it sells out.',
      ],
      C: ['Your cart', 'Red mug (12.50)'],
    };
    const [title, body] = texts[p.variant];
    expect(p).toEqual({
      user_id: 'u1',
      trigger: 'abandoned_cart',
      items: [{ item_id: 'i 1', title: 'Red mug', price: 12.5 }],
      title,
      body,
      push_id: out.pushes?.[0]?.idempotencyKey,
      channel: 'push',
      variant: p.variant,
      locale: 'en',
      // The static policy splits variants uniformly.
      propensity: 1 / 3,
      scheduled_for: T0 + 30 * MIN,
      holdout: false,
      deep_link: 'shop://p/i%201?src=push',
      expires_at: new Date(T0 + 30 * MIN + DAY).toISOString(),
      idempotency_key: out.pushes?.[0]?.idempotencyKey,
      created_at: new Date(T0 + 30 * MIN).toISOString(),
    });
    expect(msg?.headers).toEqual({
      trigger: 'abandoned_cart',
      'idempotency-key': p.idempotency_key,
      channel: 'push',
      variant: p.variant,
    });
    expect(out.pushes?.[0]?.payload).toBe(msg?.value);
    expect(p.idempotency_key).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('price drop and back in stock', () => {
  it('notifies recent viewers and carters of a drop of at least 10 %, not buyers or stale interest', () => {
    const e = engine();
    expectPushes(
      e,
      'a-b-c|',
      {
        a: batch({
          items: [item('i1', T0 - 9 * DAY, { price: 20 })],
          events: [
            ev('view', 'old', 'i1', T0 - 8 * DAY),
            ev('view', 'u1', 'i1', T0 - DAY),
            ev('add_to_cart', 'u2', 'i1', T0 - HOUR),
            ev('view', 'buyer', 'i1', T0 - HOUR),
            ev('purchase', 'buyer', 'i1', T0 - 30 * MIN),
          ],
        }),
        // 5 % off: not a drop worth a push.
        b: batch({ items: [item('i1', T0, { price: 19 })] }),
        // 19 → 17: −10.5 %.
        c: batch({ items: [item('i1', T0 + MIN, { price: 17 })], watermark: T0 - HOUR }),
      },
      'a-b-c|',
      {
        a: [],
        // u2's cart is abandoned meanwhile; carting still counts as interest in the price.
        b: ['sent abandoned_cart u2 [i1] @11-01 11:30 sent'],
        c: [
          'sent price_drop u1 [i1] @11-01 12:01 sent',
          'sent price_drop u2 [i1] @11-01 12:01 sent',
        ],
      },
    );
  });

  it('says old and new price in the text', () => {
    const e = engine();
    const [, out] = runBatches(e, [
      batch({
        items: [item('i1', T0 - DAY, { price: 40, title: 'Lamp' })],
        events: [ev('view', 'u1', 'i1', T0 - HOUR)],
      }),
      batch({ items: [item('i1', T0, { price: 30 })] }),
    ]);
    const p = JSON.parse(out.pushMessages?.[0]?.value ?? '{}') as PushPayload;
    const texts = {
      A: ['Price drop: Lamp', 'Now 30.00, down 25% from 40.00.'],
      B: [
        'Good news: Lamp is cheaper',
        'The Lamp you looked at is now 30.00 (25% off). Grab it while it lasts.',
      ],
      C: ['−25%: Lamp', 'Now 30.00.'],
    };
    expect([p.title, p.body]).toEqual(texts[p.variant]);
    expect(p.items).toEqual([{ item_id: 'i1', title: 'Lamp', price: 30 }]);
  });

  it('fires back in stock only on false → true', () => {
    const e = engine();
    expectPushes(
      e,
      'a-b-c|',
      {
        a: batch({
          items: [item('i1', T0 - DAY, { inStock: true }), item('i2', T0 - DAY)],
          events: [ev('view', 'u1', 'i1', T0 - HOUR), ev('view', 'u1', 'i2', T0 - HOUR)],
        }),
        b: batch({
          items: [item('i1', T0, { inStock: false }), item('i2', T0, { inStock: true })],
        }),
        c: batch({ items: [item('i1', T0 + HOUR, { inStock: true })] }),
      },
      'a-b-c|',
      { a: [], b: [], c: ['sent back_in_stock u1 [i1] @11-01 13:00 sent'] },
    );
  });
});

describe('interest burst', () => {
  const views = (user: string, cat: string, from: number, k: number, gap = 5 * MIN) =>
    Array.from({ length: k }, (_, i) =>
      ev('view', user, `${cat}-${i}`, from + i * gap, { category: cat }),
    );

  it('fires when a user’s category activity in the window spikes above their baseline', () => {
    // u1 has a strong long-run affinity for toys: 5 views in an hour are their normal.
    const baseline = {
      halfLifeMs: 7 * DAY,
      weight: () => 1,
      affinity: (u: string, c: string) => (u === 'u1' && c === 'toys' ? 5_000 : 0),
    };
    const e = engine({}, baseline);
    expectPushes(
      e,
      'a-b|',
      {
        a: batch({ events: [...views('u1', 'toys', T0, 6), ...views('u2', 'toys', T0, 4)] }),
        b: batch({ events: views('u2', 'toys', T0 + 20 * MIN, 2) }),
      },
      'a-b|',
      {
        a: [],
        b: ['sent interest_burst u2 [toys-0,toys-3,toys-2] @11-01 12:20 sent'],
      },
    );
  });

  it('needs the events within the window, and fires once per window', () => {
    const e = engine({ burstMinEvents: 3 });
    expectPushes(
      e,
      'a-b|',
      {
        // Spread over 2 h: never 3 in one hour.
        a: batch({ events: views('u1', 'books', T0, 4, 40 * MIN) }),
        b: batch({ events: views('u2', 'books', T0 + 3 * HOUR, 6, MIN) }),
      },
      'a-b|',
      { a: [], b: ['sent interest_burst u2 [books-2,books-1,books-0] @11-01 15:02 sent'] },
    );
  });
});

describe('new recommendation', () => {
  it('pushes a new top item scoring above the threshold once, never an item pushed before', () => {
    const e = engine({ recommendationMinScore: 1 });
    expectPushes(
      e,
      'a-b-c-d|',
      {
        a: batch({
          recs: [
            rec('u1', T0, [
              ['i1', 1.5],
              ['i2', 1.2],
              ['i3', 0.5],
            ]),
          ],
        }),
        // Same top item: no new candidate.
        b: batch({ recs: [rec('u1', T0 + MIN, [['i1', 1.6]])] }),
        // A new top item below the threshold.
        c: batch({ recs: [rec('u1', T0 + 2 * MIN, [['i4', 0.9]])], watermark: T0 }),
        // Back to i1, which was pushed already.
        d: batch({ recs: [rec('u1', T0 + 3 * MIN, [['i1', 2]])], watermark: T0 }),
      },
      'a-b-c-d|',
      {
        a: ['sent new_recommendation u1 [i1,i2] @11-01 12:00 sent'],
        b: [],
        c: [],
        d: [],
      },
    );
  });
});

describe('feedback events', () => {
  it('push_click weighs like a cart add in the recommenders, push_open like less than a view', async () => {
    const { DEFAULT_EVENT_WEIGHTS } = await import('../../models/core/weights.js');
    expect(DEFAULT_EVENT_WEIGHTS.push_click).toBeGreaterThanOrEqual(
      DEFAULT_EVENT_WEIGHTS.add_to_cart,
    );
    expect(DEFAULT_EVENT_WEIGHTS.push_open).toBeGreaterThan(0);
    expect(DEFAULT_EVENT_WEIGHTS.push_open).toBeLessThan(DEFAULT_EVENT_WEIGHTS.view);
  });
});
