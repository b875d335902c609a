import type { Config } from '../../config/schema.js';
import { callback, commonKafkaConfig, rdkafka } from '../../kafka/rdkafka.js';
import { featureChangelogTopic } from '../runtime/feature-changelog.js';
import { pushChangelogTopic } from '../runtime/push-changelog.js';

/** The compacted topics the job owns for a consumer group (their keys are user ids). */
export function compactedTopics(group: string): string[] {
  return [pushChangelogTopic(group), featureChangelogTopic(group)];
}

/**
 * Writes a tombstone (the key, a null value) for each id in every partition of each compacted
 * topic that exists: a record lives in the partition of the user's input partition, which only
 * the job knows, and a tombstone where there is no record is harmless. Compaction then removes
 * the user's records (the topic's `delete.retention.ms` later, the tombstone too); a restore
 * that reads the topic sees "deleted" at once. Returns how many tombstones were written.
 */
export async function writeTombstones(
  cfg: Config,
  topics: readonly string[],
  ids: readonly string[],
): Promise<number> {
  if (ids.length === 0) return 0;
  const rd = rdkafka();
  const producer = new rd.Producer({
    ...commonKafkaConfig(cfg),
    'enable.idempotence': true,
    acks: -1,
    dr_cb: false,
  });
  await callback((cb) => producer.connect({ timeout: 30_000 }, cb));
  let n = 0;
  try {
    // all topics: asking for one by name could create it on a broker that auto-creates
    const meta = await callback<{ topics: { name: string; partitions: { id: number }[] }[] }>(
      (cb) => producer.getMetadata({ timeout: 10_000 }, cb as (e: unknown, m: unknown) => void),
    );
    for (const topic of topics) {
      const parts = meta.topics.find((t) => t.name === topic)?.partitions ?? [];
      for (const { id: partition } of parts)
        for (const key of ids) {
          producer.produce(topic, partition, null, key, Date.now());
          n++;
        }
    }
    await callback((cb) => producer.flush(30_000, cb));
  } finally {
    await callback((cb) => producer.disconnect(cb)).catch(() => undefined);
  }
  return n;
}
