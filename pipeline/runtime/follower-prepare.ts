import { callback, type KafkaConsumer } from '../kafka/rdkafka.js';
import type { Logger } from '../logger.js';
import type { Follower } from './follower.js';

/**
 * Where the group resumes each newly assigned partition: the follower learns up to there while
 * the consumer fetches, instead of on the partition's first batch.
 */
export async function prepareFollower(
  consumer: KafkaConsumer,
  topic: string,
  partitions: number[],
  follower: Follower,
  log: Pick<Logger, 'debug'>,
): Promise<void> {
  try {
    const offsets = await callback<{ partition: number; offset: number }[]>((cb) =>
      consumer.committed(
        partitions.map((partition) => ({ topic, partition })),
        10_000,
        cb as (err: unknown, offsets: unknown) => void,
      ),
    );
    for (const o of offsets) if (o.offset >= 0) follower.prepare(o.partition, o.offset);
  } catch (err) {
    // The first batch's handoff still catches up; this only starts it early.
    log.debug({ err: String(err) }, 'committed offsets not read');
  }
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NEGATIVE_INFINITY;
  xs.sort((a, b) => a - b);
  return xs[xs.length >> 1] as number;
}
