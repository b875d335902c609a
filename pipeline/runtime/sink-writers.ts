import type { GraphBatch } from '../../operators/types.js';
import type { ClickHouseSink } from '../../sinks/clickhouse.js';
import type { RedisSink } from '../../sinks/redis.js';
import type { Metrics } from '../metrics.js';
import type { SinkWriter } from './run.js';

/** ClickHouse gets the analytics record of the batch: events, dead letters, features, what was served, push decisions. */
export function clickHouseWriter(ch: ClickHouseSink, metrics: Metrics): SinkWriter {
  return {
    name: 'clickhouse',
    write: async (b: GraphBatch) => {
      metrics.sinkBatchSize.observe(
        { sink: 'clickhouse' },
        b.events.length + b.deadLetters.length + b.recommendations.length + b.features.length,
      );
      await Promise.all([
        b.events.length > 0 ? ch.insertEvents(b.events) : undefined,
        b.features.length > 0 ? ch.insertFeatures(b.features) : undefined,
        b.deadLetters.length > 0 ? ch.insertDeadLetters(b.deadLetters) : undefined,
        b.recommendations.length > 0 ? ch.insertRecommendations(b.recommendations) : undefined,
        // `run` hands over the batch after the Redis push claim: these are the final decisions.
        b.pushes && b.pushes.length > 0 ? ch.insertPushDecisions(b.pushes) : undefined,
      ]);
    },
  };
}

/** Redis gets the serving state: top-N per touched user, features, and new purchases (exclusions). */
export function redisWriter(redis: RedisSink, metrics: Metrics): SinkWriter {
  return {
    name: 'redis',
    write: async (b: GraphBatch) => {
      metrics.sinkBatchSize.observe({ sink: 'redis' }, b.recommendations.length);
      // Purchases first: if the rec write fails and is retried, exclusions are already durable.
      if (b.purchases.size > 0) {
        await redis.addPurchases(
          [...b.purchases].map(([userId, itemIds]) => ({ userId, itemIds })),
        );
      }
      await Promise.all([
        b.recommendations.length > 0 ? redis.writeRecommendations(b.recommendations) : undefined,
        b.features.length > 0 ? redis.writeFeatures(b.features) : undefined,
      ]);
    },
  };
}
