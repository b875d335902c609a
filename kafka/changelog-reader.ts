import type { Config } from '../config/schema.js';
import { bounded, callback, commonKafkaConfig, rdkafka, type Message } from './rdkafka.js';

/** A key's latest record: where it was, and its value (null: deleted). */
export interface ChangelogValue {
  readonly partition: number;
  readonly value: Buffer | null;
}

/**
 * Reads partitions of a compacted changelog from their start to their end as of the call, as
 * read_committed consumers see them, and returns the latest value per key (null: deleted). Only
 * what was committed with offsets is state. The end is the last stable offset, not the high
 * watermark: librdkafka asks for the latest offset with the consumer's isolation level, so a
 * transaction still open (a dead producer's, or this job's own in-flight commit) ends the read
 * before its first record instead of holding it until the transaction ends
 * (test/integration/changelog-open-txn.test.ts). The caller must therefore let its own
 * in-flight commit end first (TransactionalProducer.settled), or miss what it commits.
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
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const left = (): number => Math.max(1, deadline - Date.now());
  const call = <T>(what: string, fn: (cb: (err: unknown, v?: T) => void) => void): Promise<T> =>
    bounded(callback<T>(fn), Math.min(left(), 30_000), `changelog ${topic}: ${what}`);
  await call('connect', (cb) => consumer.connect({ timeout: 30_000 }, cb));
  try {
    consumer.setDefaultConsumeTimeout(100);
    const ends = new Map<number, number>();
    const open = new Set<number>();
    for (const partition of partitions) {
      const wm = await call<{ lowOffset: number; highOffset: number }>('watermarks', (cb) =>
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
    while (open.size > 0) {
      if (Date.now() > deadline)
        throw new Error(
          `changelog ${topic}: not read to its end in ${opts.timeoutMs ?? 120_000} ms`,
        );
      const messages = await call<Message[]>('consume', (cb) =>
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
    await bounded(
      callback((cb) => consumer.disconnect(cb)),
      10_000,
      'disconnect',
    ).catch(() => undefined);
  }
}
