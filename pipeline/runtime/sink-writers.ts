import type { DeadLetter, GraphBatch } from '../../operators/types.js';
import type { ClickHouseSink } from '../../sinks/clickhouse.js';
import {
  rejectedDerivedLetter,
  rejectedEventLetter,
  writeIsolating,
  type RejectedRow,
} from '../../sinks/isolate.js';
import type { RedisSink } from '../../sinks/redis.js';
import type { Metrics } from '../metrics.js';
import type { SinkWriter } from './run.js';

/**
 * ClickHouse gets the analytics record of the batch: events, dead letters, features, what was
 * served, push decisions. A row ClickHouse refuses for its content comes back as a dead letter
 * (sinks/isolate.ts) instead of failing the batch forever.
 */
export function clickHouseWriter(ch: ClickHouseSink, metrics: Metrics): SinkWriter {
  return {
    name: 'clickhouse',
    write: async (b: GraphBatch) => {
      metrics.sinkBatchSize.observe(
        { sink: 'clickhouse' },
        b.events.length + b.deadLetters.length + b.recommendations.length + b.features.length,
      );
      const [events, features, deadLetters, recs, pushes, outcomes] = await Promise.all([
        writeIsolating(b.events, (p) => ch.insertEvents(p)),
        writeIsolating(b.features, (p) => ch.insertFeatures(p)),
        writeIsolating(b.deadLetters, (p) => ch.insertDeadLetters(p)),
        writeIsolating(b.recommendations, (p) => ch.insertRecommendations(p)),
        // `run` hands over the batch after the Redis push claim: these are the final decisions.
        writeIsolating(b.pushes ?? [], (p) => ch.insertPushDecisions(p)),
        writeIsolating(b.pushOutcomes ?? [], (p) => ch.insertPushOutcomes(p)),
      ]);
      const now = Date.now();
      const out: DeadLetter[] = events.map((r) => rejectedEventLetter(r, 'clickhouse.events', now));
      derived(out, features, 'clickhouse.features', now);
      derived(out, recs, 'clickhouse.recommendations', now);
      derived(out, pushes, 'clickhouse.push_notifications', now);
      derived(out, outcomes, 'clickhouse.push_outcomes', now);
      countRejected(metrics, 'clickhouse', deadLetters.length + out.length);
      // A dead letter its own table refuses is still in the DLQ topic (the commit carries it).
      return out;
    },
    writeDeadLetters: async (letters) => {
      const refused = await writeIsolating(letters, (p) => ch.insertDeadLetters(p));
      countRejected(metrics, 'clickhouse', refused.length);
    },
  };
}

/**
 * Redis gets the serving state: top-N per touched user, features, and new purchases
 * (exclusions). A user's writes that Redis refuses for their content (say a key of another type
 * that something else created) come back as dead letters; the other users' writes go through.
 */
export function redisWriter(redis: RedisSink, metrics: Metrics): SinkWriter {
  return {
    name: 'redis',
    write: async (b: GraphBatch) => {
      metrics.sinkBatchSize.observe({ sink: 'redis' }, b.recommendations.length);
      const now = Date.now();
      const out: DeadLetter[] = [];
      // Purchases first: if the rec write fails and is retried, exclusions are already durable.
      if (b.purchases.size > 0) {
        const entries = [...b.purchases].map(([userId, itemIds]) => ({ userId, itemIds }));
        derived(
          out,
          await writeIsolating(entries, (p) => redis.addPurchases(p)),
          'redis.purchases',
          now,
        );
      }
      const [recs, features] = await Promise.all([
        writeIsolating(b.recommendations, (p) => redis.writeRecommendations(p)),
        writeIsolating(b.features, (p) => redis.writeFeatures(p)),
      ]);
      derived(out, recs, 'redis.recommendations', now);
      derived(out, features, 'redis.features', now);
      countRejected(metrics, 'redis', out.length);
      return out;
    },
  };
}

function derived<T>(
  out: DeadLetter[],
  rows: readonly RejectedRow<T>[],
  store: string,
  now: number,
): void {
  for (const r of rows) out.push(rejectedDerivedLetter(r, store, now));
}

function countRejected(metrics: Metrics, sink: string, n: number): void {
  if (n > 0) metrics.sinkRejectedRows.inc({ sink }, n);
}
