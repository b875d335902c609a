import { describe, expect, it } from 'vitest';
import type { ClickEvent, EventType } from '../../models/event.js';
import { FeatureStore } from '../../features/feature-store.js';
import { featureRows, type FeatureRow } from '../../features/types.js';
import { DEFAULT_EVENT_WEIGHTS } from '../../models/core/weights.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2024, 0, 1, 10, 0, 0);
const DAY7 = 7 * 24 * HOUR;

let n = 0;
const ev = (
  userId: string,
  type: EventType,
  itemId: string,
  at: number,
  extra: Partial<ClickEvent> = {},
): ClickEvent => ({
  eventId: `e${n++}`,
  ts: T0 + at,
  userId,
  itemId,
  type,
  ...extra,
});

// u1 browses two items of category A, carts and buys i1; u2 views i1, then 47 min later an item of B.
const batch1: ClickEvent[] = [
  ev('u1', 'view', 'i1', 0, { category: 'A', price: 10 }),
  ev('u1', 'view', 'i2', 1 * MIN, { category: 'A', price: 30 }),
  ev('u1', 'add_to_cart', 'i1', 2 * MIN), // category and price come from i1's earlier event
  ev('u2', 'view', 'i1', 3 * MIN),
  ev('u1', 'purchase', 'i1', 4 * MIN, { quantity: 2 }),
  ev('u2', 'view', 'i3', 50 * MIN, { category: 'B', price: 500 }),
];
const batch2: ClickEvent[] = [ev('u3', 'view', 'i1', 2 * HOUR)];

const find = (
  rows: readonly FeatureRow[],
  entity: string,
  key: string,
  feature: string,
  start?: number,
) =>
  rows.filter(
    (r) =>
      r.entity === entity &&
      r.key === key &&
      r.feature === feature &&
      (start === undefined || r.windowStart === start),
  );

/** What a sink writes after a batch: the batch's own sets plus the values of the keys it touched. */
const ingestAndTake = (store: FeatureStore, events: ClickEvent[]) => {
  const out = store.ingest(events);
  return { ...out, sets: [...out.sets, ...store.takeChanged()] };
};

describe('FeatureStore on a hand-built stream', () => {
  const store = new FeatureStore();
  const out1 = ingestAndTake(store, batch1);
  let lastRows: readonly FeatureRow[] = [];
  const asOf = T0 + 50 * MIN;

  it('reads per-user windowed counts, session, recency, affinity and price band', () => {
    const u1 = store.userFeatures('u1')!;
    expect(u1.asOf).toBe(asOf);
    expect(u1.windows['1h'].counts).toMatchObject({
      view: 2,
      add_to_cart: 1,
      purchase: 1,
      click: 0,
    });
    expect(u1.windows['1h'].total).toBe(4);
    expect(u1.windows['1h'].distinctItems).toBe(2);
    expect(u1.windows['24h'].total).toBe(4);
    expect(u1.windows['5m'].total).toBe(0); // nothing in the last 5 minutes
    expect(u1.session).toEqual({
      start: T0,
      lastTs: T0 + 4 * MIN,
      lengthMs: 4 * MIN,
      depth: 4,
      distinctItems: 2,
      active: false,
    });
    expect(u1.recencyMs).toBe(46 * MIN);
    expect(u1.lastPurchaseTs).toBe(T0 + 4 * MIN);
    const w = DEFAULT_EVENT_WEIGHTS;
    const decayed = (wt: number, at: number) => wt * 2 ** (-(asOf - (T0 + at)) / DAY7);
    const expectedA =
      decayed(w.view, 0) +
      decayed(w.view, MIN) +
      decayed(w.add_to_cart, 2 * MIN) +
      decayed(w.purchase, 4 * MIN);
    expect(u1.categoryAffinity).toHaveLength(1);
    expect(u1.categoryAffinity[0].category).toBe('A');
    expect(u1.categoryAffinity[0].score).toBeCloseTo(expectedA, 9);
    // Prices 10, 30, 10 (cart, from the item), 10 (purchase) weighted 1, 1, 4, 6.
    expect(u1.priceBand?.label).toBe('10-20');
    expect(u1.priceBand?.meanPrice).toBeCloseTo((10 + 30 + 40 + 60) / 12, 3);
  });

  it('keeps an active session apart from a finished one', () => {
    const u2 = store.userFeatures('u2')!;
    expect(u2.session).toMatchObject({ start: T0 + 50 * MIN, depth: 1, active: true });
    expect(store.userFeatures('nobody')).toBeUndefined();
  });

  it('reads per-item counts, conversion rates and trending velocity', () => {
    const i1 = store.itemFeatures('i1')!;
    expect(i1.category).toBe('A');
    expect(i1.price).toBe(10);
    expect(i1.windows['1h']).toEqual({
      views: 2,
      clicks: 0,
      carts: 1,
      purchases: 1,
      units: 2,
      events: 4,
      distinctUsers: 2,
      cartRate: 0.5,
      purchaseRate: 0.5,
    });
    expect(i1.trendingVelocity).toBeCloseTo((4 + 1) / (4 / 24 + 1), 9);
  });

  it('reads per-category popularity, category inherited from the item', () => {
    const a = store.categoryFeatures('A')!;
    const w = DEFAULT_EVENT_WEIGHTS;
    expect(a.windows['1h']).toEqual({
      events: 5,
      views: 3,
      carts: 1,
      purchases: 1,
      distinctUsers: 2,
      popularity: 3 * w.view + w.add_to_cart + w.purchase,
    });
    expect(store.categoryFeatures('B')!.windows['24h'].events).toBe(1);
  });

  it("emits rows for the window holding each touched key's newest event (zeros included) and the unwindowed user state", () => {
    const rows = featureRows(out1.sets);
    // u1's events at 0, 1, 2 and 4 min fill four 1-minute panes: each window that was the newest
    // while one of them was (it ends where the pane ends) is written, as a recount of its events.
    expect(
      find(rows, 'user', 'u1', 'events_5m').map((r) => [
        r.windowStart - T0,
        r.windowEnd - T0,
        r.value,
      ]),
    ).toEqual([
      [-4 * MIN, MIN, 1],
      [-3 * MIN, 2 * MIN, 2],
      [-2 * MIN, 3 * MIN, 3],
      [0, 5 * MIN, 4],
    ]);
    expect(find(rows, 'user', 'u1', 'events_5m', T0)[0]).toEqual({
      entity: 'user',
      key: 'u1',
      feature: 'events_5m',
      windowStart: T0,
      windowEnd: T0 + 5 * MIN,
      value: 4,
      ts: asOf,
      window: '5m',
    });
    expect(find(rows, 'user', 'u1', 'click_5m', T0)[0].value).toBe(0);
    expect(find(rows, 'user', 'u1', 'session_depth')).toEqual([
      {
        entity: 'user',
        key: 'u1',
        feature: 'session_depth',
        windowStart: T0,
        windowEnd: T0 + 34 * MIN,
        value: 4,
        ts: asOf,
        final: true,
      },
    ]);
    expect(find(rows, 'user', 'u1', 'price_band')[0]).toMatchObject({
      windowStart: 0,
      windowEnd: 0,
      value: 4,
    });
    expect(find(rows, 'user', 'u1', 'last_event_ts')[0].value).toBe(T0 + 4 * MIN);
    expect(find(rows, 'user', 'u1', 'affinity:A')).toHaveLength(1);
    // i1's four events share one 10-minute pane: one 1h window.
    expect(
      find(rows, 'item', 'i1', 'purchase_rate_1h').map((r) => [r.windowEnd - T0, r.value]),
    ).toEqual([[10 * MIN, 0.5]]);
    expect(out1.late).toEqual([]);
  });

  it('emits a trending velocity with each long item window, from its own last hour', () => {
    const out2 = ingestAndTake(store, batch2);
    lastRows = featureRows(out2.sets);
    const v = find(featureRows(out2.sets), 'item', 'i1', 'trending_velocity');
    // i1's newest event (+2 h) sits in the day [+2h-23h, +3h): 5 events, 1 of them in its last hour.
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({
      windowStart: T0 + 3 * HOUR - 24 * HOUR,
      windowEnd: T0 + 3 * HOUR,
    });
    expect(v[0].value).toBeCloseTo((1 + 1) / (5 / 24 + 1), 9);
    // A batch that does not touch i1 writes nothing for it; the next i1 event moves the window.
    expect(
      find(
        featureRows(ingestAndTake(store, [ev('u3', 'view', 'i9', 3 * HOUR)]).sets),
        'item',
        'i1',
        'trending_velocity',
      ),
    ).toEqual([]);
    const later = find(
      featureRows(ingestAndTake(store, [ev('u4', 'view', 'i1', 3 * HOUR + 30 * MIN)]).sets),
      'item',
      'i1',
      'trending_velocity',
    );
    expect(later[0]).toMatchObject({ windowEnd: T0 + 4 * HOUR });
    expect(later[0].value).toBeCloseTo((1 + 1) / (6 / 24 + 1), 9);
  });

  it('writes nothing for keys whose windows only slid: their window end tells the value is stale', () => {
    const out2Rows = lastRows;
    // batch2 touched u3, i1 and i1's category A only; quiet keys get no "back to zero" rows
    // (u2's session closed in this batch: session rows are written when a session ends).
    const windowed = out2Rows.filter((r) => !r.feature.startsWith('session_'));
    const keys = new Set(windowed.map((r) => `${r.entity}:${r.key}`));
    expect([...keys].sort()).toEqual(['category:A', 'item:i1', 'user:u3']);
    // i1's 1h window now holds only the +2 h view; the end is where a reader's value expires.
    expect(find(out2Rows, 'item', 'i1', 'views_1h')).toEqual([
      {
        entity: 'item',
        key: 'i1',
        feature: 'views_1h',
        windowStart: T0 + 70 * MIN,
        windowEnd: T0 + 130 * MIN,
        value: 1,
        ts: T0 + 2 * HOUR,
        window: '1h',
      },
    ]);
    expect(find(out2Rows, 'item', 'i1', 'purchases_1h')[0].value).toBe(0);
    expect(find(out2Rows, 'category', 'A', 'popularity_1h')[0].value).toBe(
      DEFAULT_EVENT_WEIGHTS.view,
    );
  });

  it('sends events behind closed windows to the late output per family, and still counts them where open', () => {
    const before = store.userFeatures('u1', T0 + 2 * HOUR)!.windows['24h'].total;
    const tooLate = ev('u1', 'click', 'i2', 5 * MIN);
    const out3 = ingestAndTake(store, [tooLate]);
    const families = out3.late.map((l) => l.family).sort();
    expect(families).toEqual(['category_1h', 'item_1h', 'session', 'user_1h', 'user_5m']);
    for (const l of out3.late) expect(l.event).toBe(tooLate);
    expect(store.userFeatures('u1', T0 + 2 * HOUR)!.windows['24h'].total).toBe(before + 1);
    expect(store.stats().lateEvents).toBe(5);
  });

  it('evicts window state once closed: a flush leaves no open windows', () => {
    const out = store.flush();
    expect(featureRows(out.sets).length).toBeGreaterThan(0);
    expect(featureRows(out.sets).every((r) => r.final === true)).toBe(true);
    expect(store.stats().openWindows).toBe(0);
    expect(store.userFeatures('u1')!.lastEventTs).toBe(T0 + 5 * MIN);
  });
});

// (These were the tests of the computeFeatures operator, a map over ingest that no graph used.)
describe('FeatureStore batches', () => {
  it('gives one FeatureBatch per ingested batch, empty ones included, and one for the flush', () => {
    const store = new FeatureStore();
    const outs = [store.ingest(batch1), store.ingest([]), store.ingest(batch2), store.flush()];
    expect(outs).toHaveLength(4);
    expect(outs[1].sets).toEqual([]);
    expect(outs[2].watermark).toBe(T0 + 2 * HOUR - 10_000);
    expect(outs[3].watermark).toBe(Infinity);
    expect(store.stats().openWindows).toBe(0);
  });

  it('keeps the store live for readers when not flushing', () => {
    const store = new FeatureStore();
    store.ingest(batch1);
    expect(store.itemFeatures('i1')!.windows['24h'].purchases).toBe(1);
  });
});

describe('FeatureStore.takeChanged', () => {
  it('builds a key touched by several batches once, and reads pending windows before a watermark move closes them', () => {
    const store = new FeatureStore();
    // three batches of i7 in one 10-minute pane: nothing until taken, then one window per family
    for (let k = 0; k < 3; k++)
      expect(store.ingest([ev('u9', 'view', 'i7', 10 * HOUR + k * 1000)]).sets).toEqual([]);
    const taken = featureRows(store.takeChanged());
    expect(find(taken, 'item', 'i7', 'views_1h').map((r) => r.value)).toEqual([3]);
    expect(find(taken, 'user', 'u9', 'events_5m').map((r) => r.value)).toEqual([3]);
    expect(store.takeChanged()).toEqual([]);
    // i7 pending at +10 h; a batch at +12 h moves the watermark past its windows' lateness, so
    // the pending windows are read first and come with that batch
    expect(store.ingest([ev('u9', 'view', 'i7', 10 * HOUR + 5000)]).sets).toEqual([]);
    const early = featureRows(store.ingest([ev('u8', 'view', 'i8', 12 * HOUR)]).sets);
    expect(find(early, 'item', 'i7', 'views_1h').map((r) => r.value)).toEqual([4]);
    expect(store.takeChanged()).toEqual([]);
  });

  it('in parts gives the same sets as at once, a part per few keys, and clears the keys after the last', () => {
    const events: ClickEvent[] = [];
    for (let k = 0; k < 40; k++)
      events.push(
        ev(`u${k % 13}`, k % 3 === 0 ? 'purchase' : 'view', `i${k % 7}`, 10 * HOUR + k * 997),
      );
    const a = new FeatureStore();
    const b = new FeatureStore();
    a.ingest(events);
    b.ingest(events);
    const parts = [...b.takeChangedParts(4)];
    // 13 users, 7 items, the categories ev gives: a part per 4 keys, the last one shorter
    expect(parts.length).toBeGreaterThanOrEqual(5);
    expect(parts.every((p) => p.length > 0)).toBe(true);
    expect(featureRows(parts.flat())).toEqual(featureRows(a.takeChanged()));
    expect([...b.takeChangedParts(4)]).toEqual([]);
  });

  it('in parts: nothing may move the watermark until the last part, and the take ends as one at once', () => {
    const events: ClickEvent[] = [];
    for (let k = 0; k < 30; k++)
      events.push(
        ev(`u${k % 11}`, k % 4 === 0 ? 'purchase' : 'view', `i${k % 9}`, 10 * HOUR + k * 991),
      );
    const ref = new FeatureStore();
    ref.ingest(events);
    const store = new FeatureStore();
    store.ingest(events);
    const later = [ev('u8', 'view', 'i8', 12 * HOUR)];
    const parts = store.takeChangedParts(3);
    const written = [...(parts.next().value ?? [])];
    // +12 h would close windows of keys not read yet: refused, and nothing of it is applied
    expect(() => store.ingest(later)).toThrow(/take in parts is open/);
    expect(() => store.advanceIdle(12 * HOUR)).toThrow(/take in parts is open/);
    expect(() => store.flush()).toThrow(/take in parts is open/);
    expect(() => store.takeChangedParts(3).next()).toThrow(/already running/);
    expect([store.watermark, store.maxEventTs]).toEqual([ref.watermark, ref.maxEventTs]);
    for (const part of parts) written.push(...part);
    expect(featureRows(written)).toEqual(featureRows(ref.takeChanged()));
    // the last part read: the take is closed and batches go on
    expect(featureRows(store.ingest(later).sets)).toEqual(featureRows(ref.ingest(later).sets));
    expect(featureRows(store.takeChanged())).toEqual(featureRows(ref.takeChanged()));
  });

  it('in parts: a take left early closes too', () => {
    const store = new FeatureStore();
    store.ingest([ev('u1', 'view', 'i1', 10 * HOUR), ev('u2', 'view', 'i2', 10 * HOUR)]);
    for (const part of store.takeChangedParts(1)) if (part.length > 0) break;
    expect(() => store.ingest([ev('u3', 'view', 'i3', 10 * HOUR)])).not.toThrow();
  });

  it('in parts: a user erased or a key evicted between parts is skipped', () => {
    const store = new FeatureStore({ maxItems: 2 });
    store.ingest([ev('u1', 'view', 'i1', 10 * HOUR), ev('u2', 'view', 'i2', 10 * HOUR + 1000)]);
    const parts = store.takeChangedParts(1);
    const first = featureRows(parts.next().value ?? []);
    expect(first.some((r) => r.entity === 'user' && r.key === 'u1')).toBe(true);
    // erasure and the catalog do not wait for a take's parts (run: outside the batch gate)
    store.forgetUser('u2');
    store.observeItem({ itemId: 'i9', ts: T0 + 10 * HOUR + 2000, category: 'C' });
    const evicted = ['i1', 'i2'].filter((i) => store.itemFeatures(i) === undefined);
    expect(evicted).toHaveLength(1);
    const rest = featureRows([...parts].flat());
    expect(rest.filter((r) => r.key === 'u2' || r.key === evicted[0])).toEqual([]);
    const kept = evicted[0] === 'i1' ? 'i2' : 'i1';
    expect(find(rest, 'item', kept, 'views_1h').map((r) => r.value)).toEqual([1]);
  });
});
