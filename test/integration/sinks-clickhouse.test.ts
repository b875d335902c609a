import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import type { DeadLetter, ServedRecommendation } from '../../operators/types.js';
import { stackUp } from '../../stack/stack.js';
import { createClickHouseSink, type ClickHouseSink } from '../../sinks/clickhouse.js';
import { MIGRATIONS } from '../../sinks/clickhouse-schema.js';
import {
  DEAD_LETTER_PAYLOAD_LIMIT,
  type FeatureSet,
  type PushDecision,
  type StoredEvent,
} from '../../sinks/types.js';

/** A database of its own per run, so parallel or repeated runs never see each other's rows. */
const db = `sinks_ch_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
const cfg = loadConfig(undefined, process.env);

let sink: ClickHouseSink;
let admin: ClickHouseClient;

const count = async (table: string, final = true): Promise<number> => {
  const rows = await sink.query<{ n: string }>(
    `SELECT count() AS n FROM ${db}.${table}${final ? ' FINAL' : ''}`,
  );
  return Number(rows[0]?.n);
};

const event = (i: number): StoredEvent => ({
  event: {
    eventId: `ev-${i}`,
    // Spread over several months so the batch touches several partitions.
    ts: Date.UTC(2026, 0, 1) + i * 7 * 86_400_000 + 123,
    userId: `user-${i % 7}`,
    itemId: `item-${i % 11}`,
    type: i % 5 === 0 ? 'purchase' : 'view',
    ...(i % 5 === 0 && { price: 9.99, quantity: 2 }),
    ...(i % 3 === 0 && {
      sessionId: `s-${i}`,
      category: 'home',
      props: { src: 'ad', n: i },
      propsJson: JSON.stringify({ src: 'ad', n: i }),
    }),
  },
  topic: 'clickstream',
  partition: i % 3,
  offset: 1000 + i,
});

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  sink = createClickHouseSink(cfg, { database: db });
  admin = createClient({
    url: cfg.clickhouse.url,
    username: cfg.clickhouse.username,
    password: cfg.clickhouse.password,
  });
});

afterAll(async () => {
  await admin?.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => undefined);
  await admin?.close();
  await sink?.close();
});

describe('ClickHouse sink on the real server', () => {
  it('migrates idempotently and records the applied versions', async () => {
    await sink.ping();
    const first = await sink.migrate();
    const second = await sink.migrate();
    expect(first.applied).toEqual(MIGRATIONS.map((m) => m.version));
    expect(second.applied).toEqual([]);
    const tables = await sink.query<{ name: string }>(
      `SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name`,
    );
    expect(tables.map((t) => t.name)).toEqual([
      'dead_letters',
      'erasures',
      'events',
      'features',
      'model_metrics',
      'push_notifications',
      'push_outcomes',
      'push_uplift',
      'push_uplift_total',
      'recommendations',
      'schema_migrations',
      'served_features',
    ]);
    expect(await count('schema_migrations')).toBe(MIGRATIONS.length);
  });

  it('keeps every event exactly once (with FINAL) when a batch is inserted twice', async () => {
    const batch = Array.from({ length: 60 }, (_, i) => event(i));
    await sink.insertEvents(batch);
    await sink.insertEvents(batch); // the replay after a crash
    expect(await count('events', false)).toBe(120); // the replay did write
    expect(await count('events')).toBe(60);
    // A merge converges to the same answer FINAL gives.
    await admin.command({ query: `OPTIMIZE TABLE ${db}.events FINAL` });
    expect(await count('events', false)).toBe(60);

    const [row] = await sink.query<Record<string, unknown>>(
      `SELECT event_id, ts_ms, toUnixTimestamp(ts) AS ts_s, user_id, type, session_id, category, price, quantity, props,
              source_topic, source_partition, source_offset
       FROM ${db}.events FINAL WHERE event_id = 'ev-15'`,
    );
    const e = event(15);
    expect(row).toEqual({
      event_id: 'ev-15',
      ts_ms: String(e.event.ts),
      ts_s: Math.floor(e.event.ts / 1000),
      user_id: e.event.userId,
      type: 'purchase',
      session_id: 's-15',
      category: 'home',
      price: 9.99,
      quantity: 2,
      props: JSON.stringify({ src: 'ad', n: 15 }),
      source_topic: 'clickstream',
      source_partition: 0,
      source_offset: '1015',
    });
    const [plain] = await sink.query<{
      price: number | null;
      quantity: number | null;
      props: string;
    }>(`SELECT price, quantity, props FROM ${db}.events FINAL WHERE event_id = 'ev-1'`);
    expect(plain).toEqual({ price: null, quantity: null, props: '' });
  });

  it('deduplicates dead letters by source topic/partition/offset', async () => {
    const dl = (
      offset: number,
      receivedAt: number,
      payload = `bad line ${offset}`,
    ): DeadLetter => ({
      topic: 'clickstream',
      partition: 1,
      offset,
      payload,
      reason: 'malformed_json: Unexpected token',
      receivedAt,
    });
    const huge = 'x'.repeat(DEAD_LETTER_PAYLOAD_LIMIT + 500);
    await sink.insertDeadLetters([dl(1, 1_000), dl(2, 1_000), dl(3, 1_000, huge)]);
    // Re-received later (different received_at) after a crash: still one row per offset.
    await sink.insertDeadLetters([dl(1, 9_000), dl(2, 9_000), dl(3, 9_000, huge)]);
    expect(await count('dead_letters')).toBe(3);
    const rows = await sink.query<{
      offset: string;
      reason_code: string;
      payload_bytes: number;
      payload_truncated: number;
      len: string;
    }>(
      `SELECT offset, reason_code, payload_bytes, payload_truncated, length(payload) AS len FROM ${db}.dead_letters FINAL ORDER BY offset`,
    );
    expect(rows.map((r) => r.reason_code)).toEqual([
      'malformed_json',
      'malformed_json',
      'malformed_json',
    ]);
    expect(rows[2]).toMatchObject({
      payload_bytes: huge.length,
      payload_truncated: 1,
      len: String(DEAD_LETTER_PAYLOAD_LIMIT),
    });
  });

  it('makes replays of recommendations, features, push decisions and metrics harmless', async () => {
    const recs: ServedRecommendation[] = [
      {
        userId: 'u1',
        items: [{ itemId: 'a', score: 0.9, reason: 'bought together with b' }],
        modelVersion: 'm@1',
        eventTs: 5_000,
        updatedAt: 6_000,
      },
      { userId: 'u2', items: [], modelVersion: 'm@1', eventTs: 5_000, updatedAt: 6_000 },
    ];
    const window = { window: '1h', windowStart: 0, windowEnd: 3_600_000, ts: 10 };
    const features: FeatureSet[] = [
      // one row per non-zero value: clicks_1h = 0 is not stored (a missing feature is 0)
      {
        entity: 'user',
        key: 'u1',
        family: 'user_1h',
        names: ['views_1h', 'clicks_1h'],
        values: [3, 0],
        ...window,
      },
      { entity: 'item', key: 'a', family: 'item_1h', names: ['views_1h'], values: [8], ...window },
    ];
    const push = (decision: PushDecision['decision'], ts: number): PushDecision => ({
      userId: 'u1',
      trigger: 'abandoned_cart',
      decision,
      reason: decision === 'deferred' ? 'quiet hours' : 'ok',
      ts,
      items: ['a', 'b'],
      idempotencyKey: 'u1:abandoned_cart:2026-11-23',
      payload: '{"title":"Still thinking about it?"}',
      pushId: 'u1:abandoned_cart:2026-11-23',
      channel: 'push',
      variant: 'A',
      propensity: 0.5,
      variantPropensity: 0.5,
      scheduledFor: 200,
      holdout: false,
      pOpen: 0.1,
      uplift: 0.01,
      locale: 'en',
    });
    for (let replay = 0; replay < 2; replay++) {
      await sink.insertRecommendations(
        recs.map((r) => ({ ...r, updatedAt: r.updatedAt + replay })),
      );
      await sink.insertFeatures(features.map((f) => ({ ...f, ts: f.ts + replay })));
      await sink.insertPushDecisions([push('deferred', 100), push('sent', 200)]);
      await sink.insertModelMetrics([
        { ts: 1_000, model: 'itemknn', metric: 'hr_at_10', value: 0.25 },
      ]);
    }
    expect(await count('recommendations')).toBe(2);
    expect(await count('features')).toBe(2);
    expect(await count('push_notifications')).toBe(2); // deferred, then sent: two decisions
    expect(await count('model_metrics')).toBe(1);

    const [rec] = await sink.query<{
      items: string[];
      scores: number[];
      reasons: string[];
      updated_at_ms: string;
    }>(
      `SELECT items, scores, reasons, updated_at_ms FROM ${db}.recommendations FINAL WHERE user_id = 'u1'`,
    );
    expect(rec).toEqual({
      items: ['a'],
      scores: [0.9],
      reasons: ['bought together with b'],
      updated_at_ms: '6001',
    });
    const decisions = await sink.query<{ decision: string; reason: string; trigger: string }>(
      `SELECT decision, reason, trigger FROM ${db}.push_notifications FINAL ORDER BY ts_ms`,
    );
    expect(decisions).toEqual([
      { decision: 'deferred', reason: 'quiet hours', trigger: 'abandoned_cart' },
      { decision: 'sent', reason: 'ok', trigger: 'abandoned_cart' },
    ]);
  });

  it('does nothing for empty batches', async () => {
    await expect(sink.insertEvents([])).resolves.toBeUndefined();
    await expect(sink.insertDeadLetters([])).resolves.toBeUndefined();
  });

  it('refuses a database name that is not a plain identifier', () => {
    expect(() => createClickHouseSink(cfg, { database: 'bad-name; DROP' })).toThrow(
      /invalid ClickHouse identifier/,
    );
  });
});
