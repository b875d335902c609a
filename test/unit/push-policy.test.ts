import { describe, expect, it } from 'vitest';
import { idempotencyKey, quietUntil } from '../../push/clock.js';
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

const NIGHT = { quietHours: { start: '22:00', end: '08:00' } };
const at = (iso: string): number => Date.parse(iso);

describe('quiet hours', () => {
  it('defers a push at 23:30 UTC across midnight and sends it when the watermark reaches 08:00', () => {
    const e = engine(NIGHT);
    const out = runBatches(e, [
      batch({ recs: [rec('u1', at('2026-11-01T23:30:00Z'), [['i1', 2]])], watermark: 0 }),
      batch({ events: [ev('view', 'u2', 'x', at('2026-11-02T07:59:59Z'))] }),
      batch({ events: [ev('view', 'u2', 'x', at('2026-11-02T08:00:10Z'))] }),
    ]);
    const v = out[0].pushes?.[0]?.variant ?? '?';
    const summary = `push at 08:00 local (after quiet hours), variant ${v} (uniform)`;
    expect(
      out.map((b) =>
        (b.pushes ?? []).map((d) => `${d.decision} ${d.reason.replace(/, uplift.*?pp/, '')}`),
      ),
    ).toEqual([
      [`deferred quiet_hours: until 2026-11-02T08:00:00.000Z (UTC); ${summary}`],
      [],
      [`sent sent: ${summary}; top recommendation i1 scored 2.000 (because)`],
    ]);
    const [deferred] = out[0].pushes ?? [];
    const [sent] = out[2].pushes ?? [];
    // One notification, two rows: the same key, the decision time moved to the end of quiet hours.
    expect(sent?.idempotencyKey).toBe(deferred?.idempotencyKey);
    expect(sent?.ts).toBe(at('2026-11-02T08:00:00Z'));
    expect(out[0].pushMessages).toEqual([]);
    expect(out[2].pushMessages?.length).toBe(1);
  });

  it('treats 22:00 and 07:59 as quiet, 21:59 and 08:00 as not (marbles)', () => {
    const e = engine(NIGHT);
    expectPushes(
      e,
      'a-b-c-d-e|',
      {
        a: batch({ recs: [rec('u1', at('2026-11-01T21:59:00Z'), [['i1', 2]])], watermark: 0 }),
        b: batch({ recs: [rec('u2', at('2026-11-01T22:00:00Z'), [['i1', 2]])], watermark: 0 }),
        c: batch({ recs: [rec('u3', at('2026-11-02T07:59:00Z'), [['i1', 2]])], watermark: 0 }),
        d: batch({ recs: [rec('u4', at('2026-11-02T08:00:00Z'), [['i1', 2]])], watermark: 0 }),
        e: batch({ events: [], watermark: at('2026-11-02T08:00:00Z') }),
      },
      'a-b-c-d-e|',
      {
        a: ['sent new_recommendation u1 [i1] @11-01 21:59 sent'],
        b: ['deferred new_recommendation u2 [i1] @11-01 22:00 quiet_hours'],
        c: ['deferred new_recommendation u3 [i1] @11-02 07:59 quiet_hours'],
        d: ['sent new_recommendation u4 [i1] @11-02 08:00 sent'],
        e: [
          'sent new_recommendation u2 [i1] @11-02 08:00 sent',
          'sent new_recommendation u3 [i1] @11-02 08:00 sent',
        ],
      },
    );
  });

  it('uses the user’s time zone from props.tz, across a DST change', () => {
    const e = engine(NIGHT);
    const tz = { props: { tz: 'America/New_York' } };
    expectPushes(
      e,
      'a-b-c|',
      {
        // 2026-11-01 02:00 UTC is 22:00 EDT on Oct 31; quiet until 08:00 EST (13:00 UTC) Nov 1.
        a: batch({
          events: [ev('view', 'ny', 'x', at('2026-11-01T01:59:00Z'), tz)],
          recs: [rec('ny', at('2026-11-01T02:00:00Z'), [['i1', 2]])],
          watermark: 0,
        }),
        // 23:00 UTC is 18:00 in New York: not quiet there, though it is in UTC.
        b: batch({ recs: [rec('ny', at('2026-11-01T23:00:00Z'), [['i2', 2]])], watermark: 0 }),
        c: batch({ events: [], watermark: at('2026-11-01T13:00:00Z') }),
      },
      'a-b-c|',
      {
        a: ['deferred new_recommendation ny [i1] @11-01 02:00 quiet_hours'],
        b: ['sent new_recommendation ny [i2] @11-01 23:00 sent'],
        c: ['sent new_recommendation ny [i1] @11-01 13:00 sent'],
      },
    );
    expect(
      quietUntil(at('2026-11-01T02:00:00Z'), 'America/New_York', {
        startMs: 22 * HOUR,
        endMs: 8 * HOUR,
      }),
    ).toBe(at('2026-11-01T13:00:00Z'));
  });

  it('drops a deferred cart push when the user bought the item during the night', () => {
    const e = engine(NIGHT);
    expectPushes(
      e,
      'a-b-c|',
      {
        a: batch({ events: [ev('add_to_cart', 'u1', 'i1', at('2026-11-01T21:45:00Z'))] }),
        b: batch({ events: [ev('view', 'u9', 'x', at('2026-11-01T22:20:00Z'))] }),
        c: batch({
          events: [
            ev('purchase', 'u1', 'i1', at('2026-11-02T07:00:00Z')),
            ev('view', 'u9', 'x', at('2026-11-02T08:30:00Z')),
          ],
        }),
      },
      'a-b-c|',
      {
        a: [],
        b: ['deferred abandoned_cart u1 [i1] @11-01 22:15 quiet_hours'],
        c: ['suppressed abandoned_cart u1 [i1] @11-02 08:00 stale'],
      },
    );
  });
});

describe('frequency cap', () => {
  const r = (user: string, ts: number, itemId: string) => rec(user, ts, [[itemId, 2]]);

  it('allows 3 per rolling 24 h of event time, counted across the window edge', () => {
    const e = engine({ frequencyCap: 3 });
    expectPushes(
      e,
      'a-b-c-d-e-f|',
      {
        a: batch({ recs: [r('u1', T0, 'i1')] }),
        b: batch({ recs: [r('u1', T0 + HOUR, 'i2')] }),
        c: batch({ recs: [r('u1', T0 + 2 * HOUR, 'i3')] }),
        // 1 ms before the first push leaves the window: still 3 in it.
        d: batch({ recs: [r('u1', T0 + DAY - 1, 'i4')] }),
        // The window is (now − 24 h, now]: the first push is out.
        e: batch({ recs: [r('u1', T0 + DAY, 'i5')] }),
        f: batch({ recs: [r('u1', T0 + DAY + 30 * MIN, 'i6')] }),
      },
      'a-b-c-d-e-f|',
      {
        a: ['sent new_recommendation u1 [i1] @11-01 12:00 sent'],
        b: ['sent new_recommendation u1 [i2] @11-01 13:00 sent'],
        c: ['sent new_recommendation u1 [i3] @11-01 14:00 sent'],
        d: ['suppressed new_recommendation u1 [i4] @11-02 11:59 frequency_cap'],
        e: ['sent new_recommendation u1 [i5] @11-02 12:00 sent'],
        f: ['suppressed new_recommendation u1 [i6] @11-02 12:30 frequency_cap'],
      },
    );
  });

  it('counts per user', () => {
    const e = engine({ frequencyCap: 1 });
    expectPushes(
      e,
      'a|',
      { a: batch({ recs: [r('u1', T0, 'i1'), r('u2', T0, 'i1'), r('u1', T0 + 1, 'i2')] }) },
      'a|',
      {
        a: [
          'sent new_recommendation u1 [i1] @11-01 12:00 sent',
          'sent new_recommendation u2 [i1] @11-01 12:00 sent',
          'suppressed new_recommendation u1 [i2] @11-01 12:00 frequency_cap',
        ],
      },
    );
  });
});

describe('cooldown, rate limit, dedupe', () => {
  it('keeps one trigger quiet for its cooldown, but not other triggers', () => {
    const e = engine({ cooldownMs: { priceDrop: 12 * HOUR } });
    expectPushes(
      e,
      'a-b-c|',
      {
        a: batch({
          items: [
            item('i1', T0 - DAY, { price: 10 }),
            item('i2', T0 - DAY, { price: 10, inStock: false }),
          ],
          events: [ev('view', 'u1', 'i1', T0 - HOUR), ev('view', 'u1', 'i2', T0 - HOUR)],
        }),
        b: batch({ items: [item('i1', T0, { price: 5 })] }),
        c: batch({
          items: [
            item('i2', T0 + 2 * HOUR, { price: 5 }),
            item('i2', T0 + 2 * HOUR, { inStock: true }),
          ],
        }),
      },
      'a-b-c|',
      {
        a: [],
        b: ['sent price_drop u1 [i1] @11-01 12:00 sent'],
        c: [
          'suppressed price_drop u1 [i2] @11-01 14:00 cooldown',
          'sent back_in_stock u1 [i2] @11-01 14:00 sent',
        ],
      },
    );
  });

  it('limits sent pushes over all users per event-time minute', () => {
    const e = engine({ globalRatePerMinute: 2 });
    const r = (u: string, ts: number) => rec(u, ts, [['i1', 2]]);
    expectPushes(
      e,
      'a-b|',
      {
        a: batch({ recs: [r('u1', T0), r('u2', T0 + 1_000), r('u3', T0 + 59_999)] }),
        b: batch({ recs: [r('u4', T0 + MIN)] }),
      },
      'a-b|',
      {
        a: [
          'sent new_recommendation u1 [i1] @11-01 12:00 sent',
          'sent new_recommendation u2 [i1] @11-01 12:00 sent',
          'suppressed new_recommendation u3 [i1] @11-01 12:00 rate_limit',
        ],
        b: ['sent new_recommendation u4 [i1] @11-01 12:01 sent'],
      },
    );
  });

  it('decides one notification once: the same user, trigger, item and time is one row', () => {
    const e = engine();
    expectPushes(
      e,
      'a-b-c|',
      {
        a: batch({
          items: [item('i1', T0 - DAY, { inStock: false })],
          events: [ev('view', 'u1', 'i1', T0 - HOUR)],
        }),
        b: batch({ items: [item('i1', T0, { inStock: true })] }),
        // The same update again (a producer retry), after a flap at the same instant.
        c: batch({
          items: [item('i1', T0, { inStock: false }), item('i1', T0, { inStock: true })],
        }),
      },
      'a-b-c|',
      { a: [], b: ['sent back_in_stock u1 [i1] @11-01 12:00 sent'], c: [] },
    );
  });

  it('derives the idempotency key from user, trigger, item and trigger time only', () => {
    const k = idempotencyKey('u1', 'price_drop', 'i1', T0);
    expect(k).toBe(idempotencyKey('u1', 'price_drop', 'i1', T0));
    expect(k).not.toBe(idempotencyKey('u1', 'price_drop', 'i1', T0 + 1));
    expect(k).not.toBe(idempotencyKey('u1', 'back_in_stock', 'i1', T0));
    // Two engines fed the same input agree, so two instances or a replay claim the same key.
    const input = [
      batch({ events: [ev('add_to_cart', 'u1', 'i1', T0)] }),
      batch({ events: [ev('view', 'u2', 'x', T0 + HOUR)] }),
    ];
    const a = runBatches(engine(), input)[1].pushes?.[0]?.idempotencyKey;
    const b = runBatches(engine(), input)[1].pushes?.[0]?.idempotencyKey;
    expect(a).toBe(b);
    expect(a).toBe(idempotencyKey('u1', 'abandoned_cart', 'i1', T0 + 30 * MIN));
  });

  it('decides nothing when pushes are disabled', () => {
    const e = engine({ enabled: false });
    const [out] = runBatches(e, [batch({ recs: [rec('u1', T0, [['i1', 5]])] })]);
    expect(out.pushes).toEqual([]);
  });
});
