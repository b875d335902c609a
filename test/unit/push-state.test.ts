import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClickEvent, ItemEvent } from '../../models/event.js';
import { PushEngine, type PushInput, type PushOutput } from '../../push/engine.js';
import type { PushOverrides } from '../../push/options.js';
import type { PreferenceUpdate } from '../../push/types.js';
import { decodeUser, encodeUser } from '../../push/user-codec.js';
import { recentKeys } from '../../push/recent-map.js';
import { interestSize } from '../../push/interest.js';
import { burstCategory, burstWindowCount, nextWindow } from '../../push/burst-list.js';
import { USER_BOUNDS, UserPushState, flatText } from '../../push/user-state.js';
import { idempotencyKey } from '../../push/clock.js';
import { createHash } from 'node:crypto';
import { addHour, compactHours, denseHours, type HourCounts } from '../../push/hour-counts.js';
import { mulberry32 } from '../../pipeline/sim/world.js';

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.parse('2026-11-02T00:00:00Z');

/** A seeded shop: views, carts, purchases, opens of pushes, price and stock changes, preferences. */
function stream(seed: number, users: number, days: number): PushInput[] {
  const r = mulberry32(seed);
  const out: PushInput[] = [];
  let n = 0;
  const pushIds: string[] = [];
  for (let t = T0; t < T0 + days * D; t += H) {
    const events: ClickEvent[] = [];
    const items: ItemEvent[] = [];
    const prefs: PreferenceUpdate[] = [];
    for (let k = 0; k < 1 + Math.floor(r() * 6); k++) {
      const userId = `u${Math.floor(r() * users)}`;
      const itemId = `i${Math.floor(r() * 12)}`;
      const x = r();
      const type = x < 0.6 ? 'view' : x < 0.8 ? 'add_to_cart' : x < 0.9 ? 'purchase' : 'push_open';
      const props =
        type === 'push_open' && pushIds.length > 0
          ? { push_id: pushIds[Math.floor(r() * pushIds.length)] }
          : k === 0
            ? { tz: r() < 0.5 ? 'Europe/Berlin' : 'America/New_York' }
            : undefined;
      events.push({
        eventId: `e${n++}`,
        ts: t + k * 60_000,
        userId,
        itemId,
        type,
        category: `c${Number(itemId.slice(1)) % 3}`,
        ...(props && { props }),
      });
    }
    if (r() < 0.3)
      items.push({
        itemId: `i${Math.floor(r() * 12)}`,
        ts: t + 30 * 60_000,
        price: 10 + Math.floor(r() * 40),
      });
    if (r() < 0.1)
      items.push({ itemId: `i${Math.floor(r() * 12)}`, ts: t + 31 * 60_000, inStock: r() < 0.5 });
    if (r() < 0.05)
      prefs.push({
        userId: `u${Math.floor(r() * users)}`,
        ts: t + 5 * 60_000,
        channels: { push: r() < 0.5, email: r() < 0.5, in_app: r() < 0.5, sms: false },
        ...(r() < 0.3 && { locale: 'de-AT' }),
      });
    out.push({
      events,
      items,
      preferences: prefs,
      recommendations: [],
      watermark: t + H - 10 * 60_000,
    });
    // Opens refer to pushes sent earlier in the stream (filled in as the reference run goes).
    out.push({ events: [], items: [], recommendations: [], watermark: t + H - 60_000 });
    void pushIds;
  }
  return out;
}

const OPTS: PushOverrides = { globalRatePerMinute: 1_000_000, holdout: { fraction: 0.2 } };

const canon = (o: PushOutput[]): string[] =>
  o
    .flatMap((x) => [
      ...x.decisions.map(
        (d) =>
          `${d.ts} ${d.idempotencyKey} ${d.decision} ${d.reason} ${d.channel} ${d.variant} ${d.propensity}`,
      ),
      ...x.outcomes.map((c) => `${c.ts} ${c.pushId} ${c.kind} ${c.eventId}`),
    ])
    .sort();

describe('per-user push state', () => {
  it('encodes and decodes every user losslessly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), (seed) => {
        const e = new PushEngine(OPTS);
        for (const b of stream(seed, 8, 3)) e.process(b);
        for (let u = 0; u < 8; u++) {
          const bytes = e.snapshotUser(`u${u}`);
          if (!bytes) continue;
          expect(encodeUser(decodeUser(bytes))).toEqual(bytes);
        }
      }),
      { numRuns: 15 },
    );
  });

  it("a batch's changes, cut from one buffer, are each user's own record", () => {
    const e = new PushEngine(OPTS);
    e.trackChanges();
    let records = 0;
    for (const b of stream(11, 20, 4)) {
      e.process(b);
      for (const { userId, bytes } of e.takeChanges()) {
        expect(bytes).toEqual(e.snapshotUser(userId));
        records += bytes ? 1 : 0;
      }
    }
    expect(records).toBeGreaterThan(40);
  });

  it('a fresh engine restored from the snapshots decides exactly like the one that kept running', () => {
    const input = stream(7, 30, 8);
    const half = input.length / 2;
    const a = new PushEngine(OPTS);
    for (const b of input.slice(0, half)) a.process(b);
    // The other instance saw only the catalog (item-keyed state) and gets every user's bytes.
    const b = new PushEngine(OPTS);
    for (const x of input.slice(0, half)) b.process({ ...x, events: [], preferences: [] });
    b.restoreLearner(a.snapshotLearner());
    for (let u = 0; u < 30; u++) {
      const bytes = a.snapshotUser(`u${u}`);
      if (bytes) b.restoreUser(`u${u}`, bytes);
    }
    const rest = input.slice(half);
    const outA = rest.map((x) => a.process(x));
    const outB = rest.map((x) => b.process(x));
    expect(canon(outA).length).toBeGreaterThan(50);
    expect(canon(outB)).toEqual(canon(outA));
  });

  it('forgets a user: no state, no pending delivery, no price-drop fan-out, no attribution', () => {
    const e = new PushEngine({ holdout: { fraction: 0 }, policy: 'learned' });
    e.process({
      events: [],
      items: [{ itemId: 'lamp', ts: T0, price: 40 }],
      recommendations: [],
      watermark: T0,
    });
    const view = (u: string, ts: number): ClickEvent => ({
      eventId: `${u}${ts}`,
      ts,
      userId: u,
      itemId: 'lamp',
      type: 'view',
    });
    // Evening activity, so the drop at 08:00 is scheduled for later.
    for (let d = 0; d < 3; d++)
      e.process({
        events: [view('gone', T0 + d * D + 19 * H), view('kept', T0 + d * D + 19 * H)],
        items: [],
        recommendations: [],
        watermark: T0 + d * D,
      });
    const drop = e.process({
      events: [],
      items: [{ itemId: 'lamp', ts: T0 + 3 * D + 8 * H, price: 30 }],
      recommendations: [],
      watermark: T0 + 3 * D,
    });
    expect(drop.decisions.map((d) => `${d.userId} ${d.decision}`).sort()).toEqual([
      'gone deferred',
      'kept deferred',
    ]);
    expect(e.forgetUser('gone')).toBe(true);
    expect(e.snapshotUser('gone')).toBeUndefined();
    expect(e.forgetUser('gone')).toBe(false);
    const later = e.process({
      events: [],
      items: [{ itemId: 'lamp', ts: T0 + 4 * D, price: 20 }],
      recommendations: [],
      watermark: T0 + 4 * D,
    });
    expect(later.decisions.some((d) => d.userId === 'gone')).toBe(false);
    expect(later.decisions.find((d) => d.decision === 'sent')?.userId).toBe('kept');
  });

  it('keeps at most maxUsers users and drops the idle ones after userTtlMs of event time', () => {
    const e = new PushEngine({ maxUsers: 50, userTtlMs: 2 * D });
    for (let u = 0; u < 200; u++)
      e.process({
        events: [
          { eventId: `e${u}`, ts: T0 + u * 1000, userId: `u${u}`, itemId: 'x', type: 'view' },
        ],
        items: [],
        recommendations: [],
        watermark: T0,
      });
    expect(e.userCount).toBe(50);
    // The most recent 50 stay.
    expect(e.snapshotUser('u199')).toBeDefined();
    expect(e.snapshotUser('u149')).toBeUndefined();
    e.process({
      events: [{ eventId: 'late', ts: T0 + 3 * D, userId: 'fresh', itemId: 'x', type: 'view' }],
      items: [],
      recommendations: [],
      watermark: T0 + 3 * D,
    });
    expect(e.userCount).toBe(1);
  });

  it('bounds what one user can pile up: carts, interest, remembered keys', () => {
    const e = new PushEngine({ policy: 'static', holdout: { fraction: 0 } });
    const events: ClickEvent[] = [];
    for (let i = 0; i < 500; i++) {
      events.push({
        eventId: `c${i}`,
        ts: T0 + i,
        userId: 'hoarder',
        itemId: `i${i}`,
        type: 'add_to_cart',
      });
      events.push({
        eventId: `v${i}`,
        ts: T0 + i,
        userId: 'hoarder',
        itemId: `v${i}`,
        type: 'view',
        category: `cat${i % 40}`,
      });
    }
    e.process({ events, items: [], recommendations: [], watermark: T0 });
    const s = decodeUser(e.snapshotUser('hoarder') ?? new Uint8Array());
    expect((s.carts?.length ?? 0) / 2).toBe(USER_BOUNDS.carts);
    expect(interestSize(s)).toBe(USER_BOUNDS.interest);
    expect(burstWindowCount(s.bursts ?? [])).toBeLessThanOrEqual(USER_BOUNDS.burstCategories);
    expect((s.decided?.length ?? 0) / 2).toBeLessThanOrEqual(USER_BOUNDS.decided);
    // the newest are kept, oldest first, as the Maps these lists replaced ordered them
    expect([...recentKeys(s.carts ?? [])]).toEqual(
      Array.from({ length: USER_BOUNDS.carts }, (_, k) => `i${500 - USER_BOUNDS.carts + k}`),
    );
    const categories: string[] = [];
    const bursts = s.bursts ?? [];
    for (let at = 0; at < bursts.length; at = nextWindow(bursts, at))
      categories.push(burstCategory(bursts, at));
    expect(categories).toEqual(Array.from({ length: 16 }, (_, k) => `cat${(484 + k) % 40}`));
  });

  it('packed fields: defaults, every value in range kept, preferences allocated only when set', () => {
    const s = new UserPushState();
    expect([s.prefTs, s.channelMask, s.personalization, s.tzPinned, s.locale]).toEqual([
      -Infinity,
      0b0101,
      true,
      false,
      undefined,
    ]);
    expect([s.lastVariant, s.holdoutFlag, s.decidedNext]).toEqual([-1, -1, 0]);
    // decodeUser sets every field: the defaults must not allocate the preferences object
    s.prefTs = -Infinity;
    s.channelMask = 0b0101;
    s.personalization = true;
    s.tzPinned = false;
    s.locale = undefined;
    expect(Object.values(s)).not.toContainEqual(expect.objectContaining({ channelMask: 0b0101 }));
    fc.assert(
      fc.property(
        fc.integer({ min: -1, max: 2 }),
        fc.integer({ min: -1, max: 1 }),
        fc.integer({ min: 0, max: USER_BOUNDS.decided - 1 }),
        fc.integer({ min: 0, max: 15 }),
        (variant, holdout, next, mask) => {
          const u = new UserPushState();
          u.lastVariant = variant;
          u.holdoutFlag = holdout;
          u.decidedNext = next;
          u.channelMask = mask;
          const back = decodeUser(encodeUser(u));
          expect([u.lastVariant, u.holdoutFlag, u.decidedNext]).toEqual([variant, holdout, next]);
          expect([back.lastVariant, back.decidedNext, back.channelMask]).toEqual([
            variant,
            next,
            mask,
          ]);
        },
      ),
    );
    expect(() => (s.decidedNext = USER_BOUNDS.decided)).toThrow(RangeError);
    expect(() => (s.lastVariant = 0.5)).toThrow(RangeError);
  });

  it('idempotency keys: the first 32 hex digits of the SHA-256', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer(), (u, item, ts) => {
        const full = createHash('sha256')
          .update(`${u}\u0000price_drop\u0000${item}\u0000${ts}`)
          .digest('hex');
        expect(idempotencyKey(u, 'price_drop', item, ts)).toBe(full.slice(0, 32));
      }),
    );
  });

  it('flatText keeps any text, lone surrogates and control characters included', () => {
    for (const t of ['', 'a\u0000b', '\ud800x', `${'ab'.repeat(20)}${String(Math.PI)}\u{1f600}`])
      expect(flatText(t)).toBe(t);
  });
});

describe('hour-of-week counts', () => {
  it('read the same as a dense brute force in every form (one hour, sparse, dense)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            how: fc.integer({ min: 0, max: 167 }),
            weight: fc.integer({ min: 1, max: 120 }),
            halvings: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10 })),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        (steps) => {
          const want = new Array<number>(168).fill(0);
          let h: HourCounts = [];
          for (const { how, weight, halvings } of steps) {
            for (let i = 0; i < 168; i++) want[i] = (want[i] as number) >> Math.min(8, halvings);
            if ((want[how] as number) + weight > 255)
              for (let i = 0; i < 168; i++) want[i] = (want[i] as number) >> 1;
            want[how] = (want[how] as number) + weight;
            h = addHour(h, how, weight, halvings);
            expect(Array.from(denseHours(h))).toEqual(want);
            // the snapshot form reads the same, and one non-zero hour is a number
            const back = compactHours(new Uint8Array(want));
            expect(Array.from(denseHours(back))).toEqual(want);
            if (want.filter((c) => c > 0).length === 1) expect(typeof back).toBe('number');
          }
        },
      ),
    );
  });
});
