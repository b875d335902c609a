import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { committedOffsets, endOffsets } from '../../kafka/admin.js';
import { waitFor } from './cli.js';

export interface IsolatedRun {
  readonly name: string;
  /** RECPIPE_* overrides for child processes (`recpipe run`, `produce`, `recs`). */
  readonly env: Record<string, string>;
  readonly cfg: Config;
}

/**
 * Topics, consumer group, ClickHouse database and Redis prefix of their own, so test files on the
 * shared stack never see each other's data.
 */
export function isolatedRun(label: string, extra: Record<string, string> = {}): IsolatedRun {
  const name = `${label}${Date.now().toString(36)}`;
  const env: Record<string, string> = {
    RECPIPE_KAFKA_INPUT_TOPIC: `${name}-clickstream`,
    RECPIPE_KAFKA_ITEMS_TOPIC: `${name}-items`,
    RECPIPE_KAFKA_PREFERENCES_TOPIC: `${name}-preferences`,
    RECPIPE_KAFKA_DLQ_TOPIC: `${name}-dlq`,
    RECPIPE_KAFKA_PUSH_TOPIC: `${name}-push`,
    RECPIPE_KAFKA_GROUP_ID: `${name}-group`,
    RECPIPE_CLICKHOUSE_DATABASE: name,
    RECPIPE_REDIS_PREFIX: `${name}:`,
    RECPIPE_LOG_LEVEL: 'warn',
    ...extra,
  };
  return { name, env, cfg: loadConfig(undefined, { ...process.env, ...env }) };
}

/**
 * Resolves once the run's consumer group has committed every partition of `topic` (default: the
 * input topic) to its log end as of the call; a partition nothing was written to has nothing to
 * commit.
 */
export async function waitForCommittedToEnd(
  cfg: Config,
  timeoutMs = 180_000,
  topic = cfg.kafka.inputTopic,
): Promise<void> {
  const ends = await endOffsets(cfg, topic);
  await waitFor(
    `committed offsets at the end of ${topic}`,
    async () => {
      const committed = await committedOffsets(cfg, cfg.kafka.groupId, topic);
      return ends.every(
        (e) =>
          e.high <= e.low ||
          (committed.find((c) => c.partition === e.partition)?.offset ?? -1) >= e.high,
      );
    },
    timeoutMs,
    500,
  );
}
