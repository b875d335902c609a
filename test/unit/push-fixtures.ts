import { expect } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { map } from 'rxjs';
import type { ClickEvent, EventType, ItemEvent, ScoredItem } from '../../models/event.js';
import { PushEngine } from '../../push/engine.js';
import type { PushOverrides } from '../../push/options.js';
import type { BurstBaseline } from '../../push/triggers.js';
import { decidePushes } from '../../operators/decide-pushes.js';
import type { GraphBatch, PreferenceUpdate, PushDecision } from '../../operators/types.js';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
/** Sunday 2026-11-01 12:00 UTC: far from quiet hours unless a test moves there. */
export const T0 = Date.UTC(2026, 10, 1, 12);

let n = 0;
export const ev = (
  type: EventType,
  userId: string,
  itemId: string,
  ts: number,
  extra: Partial<ClickEvent> = {},
): ClickEvent => ({ eventId: `e${n++}`, type, userId, itemId, ts, ...extra });

export const item = (itemId: string, ts: number, extra: Partial<ItemEvent> = {}): ItemEvent => ({
  itemId,
  ts,
  ...extra,
});

export const rec = (userId: string, eventTs: number, items: [string, number][]) => ({
  userId,
  eventTs,
  updatedAt: eventTs,
  modelVersion: 'test',
  items: items.map(([itemId, score]): ScoredItem => ({ itemId, score, reason: 'because' })),
});

/** A graph batch as decidePushes sees it; the watermark defaults to the newest ts − 10 s. */
export function batch(
  parts: {
    events?: ClickEvent[];
    items?: ItemEvent[];
    recs?: ReturnType<typeof rec>[];
    prefs?: PreferenceUpdate[];
    watermark?: number;
  },
  seq = 0,
): GraphBatch {
  const events = parts.events ?? [];
  const items = parts.items ?? [];
  const newest = Math.max(-Infinity, ...events.map((e) => e.ts), ...items.map((i) => i.ts));
  return {
    seq,
    commits: [],
    messages: events.length + items.length,
    events: events.map((event, offset) => ({ event, topic: 't', partition: 0, offset })),
    items,
    duplicates: 0,
    deadLetters: [],
    recommendations: parts.recs ?? [],
    purchases: new Map(),
    features: [],
    lateFeatureEvents: 0,
    watermark: parts.watermark ?? newest - 10_000,
    ...(parts.prefs && { preferences: parts.prefs }),
  };
}

const iso = (ts: number): string => new Date(ts).toISOString().slice(5, 16).replace('T', ' ');

/** `sent abandoned_cart u1 [i1,i2] @11-01 12:30 fired`: what a decision row says, in one line. */
export const line = (d: PushDecision): string =>
  `${d.decision} ${d.trigger} ${d.userId} [${d.items.join(',')}] @${iso(d.ts)} ${d.reason.split(':')[0]}`;

/**
 * The static policy with no holdout, quiet hours, cooldowns or rate limits unless the test asks
 * for them: the fixed rules, decided at the trigger time on the push channel.
 */
export const OPEN: PushOverrides = {
  policy: 'static',
  holdout: { fraction: 0 },
  quietHours: { start: '00:00', end: '00:00' },
  cooldownMs: {
    abandonedCart: 0,
    priceDrop: 0,
    backInStock: 0,
    interestBurst: 0,
    newRecommendation: 0,
  },
  frequencyCap: 100,
};

export const engine = (o: PushOverrides = {}, baseline?: BurstBaseline): PushEngine =>
  new PushEngine(
    {
      ...OPEN,
      ...o,
      cooldownMs: { ...OPEN.cooldownMs, ...o.cooldownMs },
      quietHours: { ...OPEN.quietHours, ...o.quietHours },
      holdout: { ...OPEN.holdout, ...o.holdout },
    },
    baseline,
  );

/**
 * Runs `marble` of batches through decidePushes on the TestScheduler and expects each output
 * batch's decisions (as `line`s) per frame of `expected`.
 */
export function expectPushes(
  e: PushEngine,
  marble: string,
  batches: Record<string, GraphBatch>,
  expected: string,
  decisions: Record<string, string[]>,
): void {
  new TestScheduler((actual, exp) => expect(actual).toEqual(exp)).run(
    ({ cold, expectObservable }) => {
      const out = cold(marble, batches).pipe(
        decidePushes(e),
        map((b) => (b.pushes ?? []).map(line)),
      );
      expectObservable(out).toBe(expected, decisions);
    },
  );
}

/** Runs batches straight through (for payload checks) and returns every output batch. */
export function runBatches(e: PushEngine, batches: GraphBatch[]): GraphBatch[] {
  const out: GraphBatch[] = [];
  const op = decidePushes(e);
  new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ cold }) => {
    const marble = `${batches.map((_, i) => String.fromCharCode(97 + i)).join('')}|`;
    const values = Object.fromEntries(batches.map((b, i) => [String.fromCharCode(97 + i), b]));
    cold(marble, values)
      .pipe(op)
      .subscribe((b) => out.push(b));
  });
  return out;
}
