import { createRequire } from 'node:module';

type Rd = typeof import('@confluentinc/kafka-javascript');
const rd = createRequire(import.meta.url)('@confluentinc/kafka-javascript') as Rd;

export interface ReadMessage {
  partition: number;
  offset: number;
  key?: string;
  value: string;
  headers: Record<string, string>;
}

/**
 * Reads a whole topic from the beginning, as a downstream read_committed consumer would, until no
 * new message arrived for `quietMs`. Aborted transactional messages are never returned.
 */
export async function readTopic(
  brokers: string,
  topic: string,
  quietMs = 3000,
  maxMs = 60_000,
): Promise<ReadMessage[]> {
  const consumer = new rd.KafkaConsumer(
    {
      'bootstrap.servers': brokers,
      'group.id': `reader-${Date.now()}-${Math.random()}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: 20_000 }, (err) => (err ? reject(err) : resolve())),
  );
  consumer.setDefaultConsumeTimeout(200);
  consumer.subscribe([topic]);
  const out: ReadMessage[] = [];
  const started = Date.now();
  let lastNew = Date.now();
  while (Date.now() - lastNew < quietMs && Date.now() - started < maxMs) {
    const batch = await new Promise<import('@confluentinc/kafka-javascript').Message[]>(
      (resolve, reject) =>
        consumer.consume(1000, (err, msgs) => (err ? reject(err) : resolve(msgs))),
    );
    for (const m of batch) {
      const headers: Record<string, string> = {};
      for (const h of m.headers ?? [])
        for (const [k, v] of Object.entries(h)) headers[k] = v.toString();
      out.push({
        partition: m.partition,
        offset: m.offset,
        ...(m.key != null && { key: m.key.toString() }),
        value: m.value?.toString() ?? '',
        headers,
      });
    }
    if (batch.length > 0) lastNew = Date.now();
  }
  await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  return out;
}
