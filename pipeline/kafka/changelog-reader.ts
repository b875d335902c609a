import type { Config } from '../../config/schema.js';
import { callback, commonKafkaConfig, rdkafka, type Message } from './rdkafka.js';

/** A key's latest record: where it was, and its value (null: deleted). */
export interface ChangelogValue {
  readonly partition: number;
  readonly value: Buffer | null;
}

/**
 * Reads partitions of a compacted changelog from their start to their end as of the call, as
 * read_committed consumers see them, and returns the latest value per key (null: deleted). Only
 * what was committed with offsets is state; a transaction left open by a dead producer holds the
 * read back until the broker aborts it (transaction.timeout.ms), which it then skips.
 */
export async function readChangelog(
  cfg: Config,
  topic: string,
  partitions: readonly number[],
  opts: {
    timeoutMs?: number;
    groupId?: string;
    /**
     * Sees each record in offset order instead of collecting the latest per key (a later record
     * of a key supersedes an earlier one): restores without holding every record at once.
     */
    onRecord?: (key: string, record: ChangelogValue) => void;
  } = {},
): Promise<{ values: Map<string, ChangelogValue>; records: number }> {
  const values = new Map<string, ChangelogValue>();
  let records = 0;
  if (partitions.length === 0) return { values, records };
  const rd = rdkafka();
  const consumer = new rd.KafkaConsumer(
    {
      ...commonKafkaConfig(cfg),
      // Never joins or commits: partitions are assigned by hand.
      'group.id': opts.groupId ?? `recpipe-changelog-reader-${process.pid}`,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'enable.partition.eof': true,
      'isolation.level': 'read_committed',
      'fetch.max.bytes': 52_428_800,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await callback((cb) => consumer.connect({ timeout: 30_000 }, cb));
  try {
    consumer.setDefaultConsumeTimeout(100);
    const ends = new Map<number, number>();
    const open = new Set<number>();
    for (const partition of partitions) {
      const wm = await callback<{ lowOffset: number; highOffset: number }>((cb) =>
        consumer.queryWatermarkOffsets(
          topic,
          partition,
          10_000,
          cb as (err: unknown, o: unknown) => void,
        ),
      );
      ends.set(partition, wm.highOffset);
      if (wm.highOffset > wm.lowOffset) open.add(partition);
    }
    if (open.size === 0) return { values, records };
    consumer.on('partition.eof', (e) => {
      if (e.offset >= (ends.get(e.partition) ?? 0)) open.delete(e.partition);
    });
    consumer.assign([...open].map((partition) => ({ topic, partition, offset: -2 })));
    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    while (open.size > 0) {
      if (Date.now() > deadline)
        throw new Error(
          `changelog ${topic}: not read to its end in ${opts.timeoutMs ?? 120_000} ms`,
        );
      const messages = await callback<Message[]>((cb) =>
        consumer.consume(10_000, cb as (err: unknown, m: Message[]) => void),
      );
      for (const m of messages) {
        records++;
        if (m.key != null) {
          const record = { partition: m.partition, value: m.value ?? null };
          if (opts.onRecord) opts.onRecord(m.key.toString(), record);
          else values.set(m.key.toString(), record);
        }
        if (m.offset + 1 >= (ends.get(m.partition) ?? 0)) open.delete(m.partition);
      }
    }
    return { values, records };
  } finally {
    await callback((cb) => consumer.disconnect(cb)).catch(() => undefined);
  }
}
