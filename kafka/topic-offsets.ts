import type { Config } from '../config/schema.js';
import { callback, commonKafkaConfig, rdkafka, type KafkaConsumer } from './rdkafka.js';

/**
 * A consumer that assigns partitions itself and never commits (the follower): its group id only
 * names it to the broker; it starts where it is told, else at the log start.
 */
export function selfAssignedConsumer(cfg: Config, groupId: string): KafkaConsumer {
  const rd = rdkafka();
  return new rd.KafkaConsumer(
    {
      ...commonKafkaConfig(cfg),
      'group.id': groupId,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'fetch.wait.max.ms': 50,
      'queued.max.messages.kbytes': 16_384,
    },
    { 'auto.offset.reset': 'earliest' },
  );
}

/** The partitions of `topic` per the broker's metadata, ascending (none when it does not exist). */
export async function topicPartitions(consumer: KafkaConsumer, topic: string): Promise<number[]> {
  const meta = await callback<{ topics: { name: string; partitions: { id: number }[] }[] }>((cb) =>
    consumer.getMetadata({ topic, timeout: 10_000 }, cb as (err: unknown, m: unknown) => void),
  );
  const found = meta.topics.find((t) => t.name === topic);
  return (found?.partitions ?? []).map((p) => p.id).sort((a, b) => a - b);
}

/** Where a partition's log starts and ends, asked of the broker (not the last fetch's view). */
export function partitionWatermarks(
  consumer: KafkaConsumer,
  topic: string,
  partition: number,
): Promise<{ lowOffset: number; highOffset: number }> {
  return callback<{ lowOffset: number; highOffset: number }>((cb) =>
    consumer.queryWatermarkOffsets(
      topic,
      partition,
      10_000,
      cb as (err: unknown, w: unknown) => void,
    ),
  );
}

/** A partition's log end as of the last fetch response (no broker round trip); undefined before one. */
export function fetchedHighOffset(
  consumer: KafkaConsumer,
  topic: string,
  partition: number,
): number | undefined {
  try {
    const wm = consumer.getWatermarkOffsets(topic, partition);
    return wm.highOffset >= 0 ? wm.highOffset : undefined;
  } catch {
    return undefined;
  }
}
