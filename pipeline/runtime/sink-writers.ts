import type { DeadLetter, ServedRecommendation } from '../../operators/types.js';
import type { AnalyticsTable } from '../../sinks/clickhouse-rows.js';
import type { ClickHouseSink } from '../../sinks/clickhouse.js';
import { rejectedDerivedLetter, writeIsolating, type RejectedRow } from '../../sinks/isolate.js';
import { classifySinkError } from '../../sinks/errors.js';
import type { RedisSink } from '../../sinks/redis.js';
import type { Metrics } from '../metrics.js';
import { yieldToEventLoop } from './event-loop.js';
import type { AnalyticsWriter, ServingWriter } from '../../sinks/writer.js';

/** Declared in sinks/ (the sink interface lives beside its adapters); re-exported for the runtime. */
export type { AnalyticsWriter, ServingWriter } from '../../sinks/writer.js';

const TEXT_TABLES: readonly { readonly table: AnalyticsTable; readonly store: string }[] = [
  { table: 'events', store: 'clickhouse.events' },
  { table: 'deadLetters', store: 'clickhouse.dead_letters' },
  { table: 'recommendations', store: 'clickhouse.recommendations' },
  { table: 'servedFeatures', store: 'clickhouse.served_features' },
  { table: 'pushes', store: 'clickhouse.push_notifications' },
  { table: 'pushOutcomes', store: 'clickhouse.push_outcomes' },
];

/**
 * ClickHouse gets the analytics record (events, dead letters, features, what was served, push
 * decisions and outcomes: one insert per table for the whole group) and Redis the feature
 * hashes, in parallel. A group ClickHouse refuses for a row's content is split until that row is
 * alone (sinks/isolate.ts): JSONEachRow text splits on newlines, which JSON strings never hold.
 */
export function analyticsWriter(
  ch: ClickHouseSink,
  redis: RedisSink,
  metrics: Metrics,
): AnalyticsWriter {
  return {
    name: 'analytics',
    write: async (served, features) => {
      let rows = 0;
      for (const s of served) rows += s.summary.rows;
      metrics.sinkBatchSize.observe({ sink: 'clickhouse' }, rows);
      const now = Date.now();
      const tables = TEXT_TABLES.map(async ({ table, store }) => {
        const parts: string[] = [];
        for (const s of served) if (s.text[table] !== '') parts.push(s.text[table]);
        if (parts.length === 0) return [];
        const text = parts.join('\n');
        try {
          await ch.insertText(table, text);
          return [];
        } catch (err) {
          if (classifySinkError(err) !== 'row') throw err;
          const lines = text.split('\n');
          const bad = await writeIsolating(lines, (ls) => ch.insertText(table, ls.join('\n')));
          return bad.map((r) => lineLetter(r, table, store, now));
        }
      });
      // The feature rows are encoded in a turn of their own (thousands of windows per write);
      // a table failing meanwhile is not unhandled, Promise.all below still sees it.
      for (const t of tables) t.catch(() => undefined);
      await yieldToEventLoop();
      const refused = await Promise.all([
        ...tables,
        writeIsolating(features, (f) => ch.insertFeatures(f)).then((r) =>
          derived(r, 'clickhouse.features', now),
        ),
      ]);
      const fromRedis = derived(
        await writeIsolating(features, (f) => redis.writeFeatures(f)),
        'redis.features',
        now,
      );
      const out = refused.flat();
      countRejected(metrics, 'clickhouse', out.length);
      countRejected(metrics, 'redis', fromRedis.length);
      for (const l of fromRedis) out.push(l);
      return out;
    },
    writeDeadLetters: async (letters) => {
      const refused = await writeIsolating(letters, (p) => ch.insertDeadLetters(p));
      // A dead letter its own table refuses is still in the DLQ topic (the commit carries it).
      countRejected(metrics, 'clickhouse', refused.length);
    },
  };
}

/**
 * Redis gets the serving state: the latest list of each touched user (a user served by several
 * batches of the group is written once, with the newest list) and new purchases. Feature hashes
 * go with the analytics write: they are built once per key and write. A user's write Redis
 * refuses for its content (a key of another type under our name) becomes a dead letter; the
 * other users' writes go through.
 */
export function redisWriter(redis: RedisSink, metrics: Metrics): ServingWriter {
  return {
    name: 'redis',
    write: async (batches) => {
      const latest = new Map<string, ServedRecommendation>();
      const purchases = new Map<string, string[]>();
      for (const b of batches) {
        for (const r of b.recommendations) latest.set(r.userId, r);
        for (const [user, items] of b.purchases) {
          const list = purchases.get(user);
          if (list) list.push(...items);
          else purchases.set(user, [...items]);
        }
      }
      metrics.sinkBatchSize.observe({ sink: 'redis' }, latest.size);
      const now = Date.now();
      const out: DeadLetter[] = [];
      // Purchases first: if the list write fails and is retried, exclusions are already durable.
      if (purchases.size > 0) {
        const entries = [...purchases].map(([userId, itemIds]) => ({ userId, itemIds }));
        const bad = await writeIsolating(entries, (p) => redis.addPurchases(p));
        for (const l of derived(bad, 'redis.purchases', now)) out.push(l);
      }
      if (latest.size > 0) {
        const bad = await writeIsolating([...latest.values()], (p) =>
          redis.writeRecommendations(p),
        );
        for (const l of derived(bad, 'redis.recommendations', now)) out.push(l);
      }
      countRejected(metrics, 'redis', out.length);
      return out;
    },
  };
}

/**
 * A refused analytics line. An event keeps its source position (so a replay records it once,
 * like any dead letter); any other row is a derived one, kept under `recpipe:{store}`.
 */
function lineLetter(
  r: RejectedRow<string>,
  table: AnalyticsTable,
  store: string,
  now: number,
): DeadLetter {
  const event = table === 'events' ? storedEvent(r.row) : undefined;
  if (event)
    return {
      topic: event.topic,
      partition: event.partition,
      offset: event.offset,
      payload: JSON.stringify(event.event),
      reason: `sink_rejected: ${store} refused the row: ${r.error}`,
      receivedAt: now,
    };
  return rejectedDerivedLetter(r, store, now);
}

/**
 * The event and source position of one of our own `events` lines, for its dead letter: the
 * payload is the event as validated (the shape rejectedEventLetter gives), not the table row.
 */
function storedEvent(line: string):
  | {
      topic: string;
      partition: number;
      offset: number;
      event: Record<string, string | number>;
    }
  | undefined {
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    const topic = v.source_topic;
    const partition = v.source_partition;
    const offset = v.source_offset;
    if (typeof topic !== 'string' || typeof partition !== 'number' || typeof offset !== 'number')
      return undefined;
    const event = new Map<string, string | number>();
    const copy = (to: string, from: string): void => {
      // trusted-key: `from` is one of the column names written out below
      const x = v[from];
      if ((typeof x === 'string' && x !== '') || typeof x === 'number') event.set(to, x);
    };
    copy('eventId', 'event_id');
    copy('ts', 'ts_ms');
    copy('userId', 'user_id');
    copy('itemId', 'item_id');
    copy('type', 'type');
    copy('sessionId', 'session_id');
    copy('category', 'category');
    copy('price', 'price');
    copy('quantity', 'quantity');
    copy('propsJson', 'props');
    return { topic, partition, offset, event: Object.fromEntries(event) };
  } catch {
    // not our own encoding: kept as a derived row
    return undefined;
  }
}

function derived<T>(rows: readonly RejectedRow<T>[], store: string, now: number): DeadLetter[] {
  return rows.map((r) => rejectedDerivedLetter(r, store, now));
}

function countRejected(metrics: Metrics, sink: string, n: number): void {
  if (n > 0) metrics.sinkRejectedRows.inc({ sink }, n);
}
