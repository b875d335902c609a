import type { Config } from '../config/schema.js';
import { bounded, callback, commonKafkaConfig, rdkafka, type Message } from './rdkafka.js';

interface Meta {
  topics: { name: string; partitions: { id: number }[] }[];
}

/**
 * The idempotency keys (header `idempotency-key`) of the messages committed to `topic` since
 * wall-clock `sinceMs`, as a read_committed consumer sees them: what a crashed job did commit of
 * the pushes it had claimed (push-outbox.ts). Reads every partition from the first offset at or
 * after `sinceMs` up to its last stable offset as of the call (read_committed's end: a transaction
 * still open ends the read before its first message, see changelog-reader.ts), aborted messages
 * skipped. The caller lets its own in-flight commit end first (TransactionalProducer.settled).
 */
export async function committedKeysSince(
  cfg: Config,
  topic: string,
  sinceMs: number,
  timeoutMs = 90_000,
): Promise<Set<string>> {
  const rd = rdkafka();
  const consumer = new rd.KafkaConsumer(
    {
      ...commonKafkaConfig(cfg),
      'group.id': `recpipe-outbox-reader-${process.pid}`,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'enable.partition.eof': true,
      'isolation.level': 'read_committed',
    },
    { 'auto.offset.reset': 'earliest' },
  );
  const deadline = Date.now() + timeoutMs;
  const call = <T>(what: string, fn: (cb: (err: unknown, v?: T) => void) => void): Promise<T> =>
    bounded(
      callback<T>(fn),
      Math.min(Math.max(1, deadline - Date.now()), 30_000),
      `${topic}: ${what}`,
    );
  await call('connect', (cb) => consumer.connect({ timeout: 30_000 }, cb));
  try {
    consumer.setDefaultConsumeTimeout(200);
    const meta = await call<Meta>('metadata', (cb) =>
      consumer.getMetadata({ topic, timeout: 10_000 }, cb as (err: unknown, m: unknown) => void),
    );
    const partitions = (meta.topics.find((t) => t.name === topic)?.partitions ?? []).map(
      (p) => p.id,
    );
    const ends = new Map<number, number>();
    for (const partition of partitions) {
      const wm = await call<{ highOffset: number }>('watermarks', (cb) =>
        consumer.queryWatermarkOffsets(
          topic,
          partition,
          10_000,
          cb as (err: unknown, o: unknown) => void,
        ),
      );
      ends.set(partition, wm.highOffset);
    }
    const starts = await call<{ partition: number; offset: number }[]>('offsets for times', (cb) =>
      consumer.offsetsForTimes(
        partitions.map((partition) => ({ topic, partition, offset: sinceMs })),
        10_000,
        cb as (err: unknown, o: unknown) => void,
      ),
    );
    // -1: nothing written at or after sinceMs.
    const open = new Set<number>();
    const assign: { topic: string; partition: number; offset: number }[] = [];
    for (const s of starts) {
      const end = ends.get(s.partition) ?? 0;
      if (s.offset < 0 || s.offset >= end) continue;
      open.add(s.partition);
      assign.push({ topic, partition: s.partition, offset: s.offset });
    }
    const keys = new Set<string>();
    if (assign.length === 0) return keys;
    consumer.on('partition.eof', (e) => {
      if (e.offset >= (ends.get(e.partition) ?? 0)) open.delete(e.partition);
    });
    consumer.assign(assign);
    while (open.size > 0) {
      if (Date.now() > deadline)
        throw new Error(`${topic}: not read to its end within ${timeoutMs} ms`);
      const messages = await call<Message[]>('consume', (cb) =>
        consumer.consume(1000, cb as (err: unknown, m: Message[]) => void),
      );
      for (const m of messages) {
        for (const h of m.headers ?? []) {
          const v = h['idempotency-key'];
          if (v !== undefined) keys.add(v.toString());
        }
        if (m.offset + 1 >= (ends.get(m.partition) ?? 0)) open.delete(m.partition);
      }
    }
    return keys;
  } finally {
    await bounded(
      callback((cb) => consumer.disconnect(cb)),
      10_000,
      'disconnect',
    ).catch(() => undefined);
  }
}
