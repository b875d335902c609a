import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import type { DeadLetter } from '../../operators/types.js';
import { stackUp } from '../../stack/stack.js';
import { committedOffsets, consumerLag, endOffsets, ensureTopics } from '../../kafka/admin.js';
import {
  createKafkaProducerSink,
  kafkaClient,
  type KafkaProducerSink,
} from '../../kafka/client.js';
import { deadLetterMessage, type SinkLog } from '../../sinks/types.js';

/** Topics of their own per run, so runs never read each other's messages. */
const run = `sinks-kafka-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const topic = `${run}-events`;
const dlq = `${run}-dlq`;
const cfg = loadConfig(undefined, process.env);
const quiet: SinkLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

interface Received {
  partition: number;
  offset: number;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/** Reads `n` messages of `topic` with the same library's consumer, as group `group`, then commits. */
async function consume(t: string, n: number, group: string): Promise<Received[]> {
  const consumer = kafkaClient(cfg, quiet).consumer({
    kafkaJS: { groupId: group, fromBeginning: true, autoCommit: false },
  });
  await consumer.connect();
  const got: Received[] = [];
  try {
    await consumer.subscribe({ topics: [t] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${got.length}/${n} messages after 60 s`)),
        60_000,
      );
      void consumer
        .run({
          eachMessage: async ({ partition, message }: KafkaJS.EachMessagePayload) => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(message.headers ?? {}))
              if (v !== undefined) headers[k] = v.toString();
            got.push({
              partition,
              offset: Number(message.offset),
              key: message.key?.toString() ?? null,
              value: message.value?.toString() ?? '',
              headers,
            });
            if (got.length >= n) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    const next = new Map<number, number>();
    for (const m of got) next.set(m.partition, Math.max(next.get(m.partition) ?? 0, m.offset + 1));
    await consumer.commitOffsets(
      [...next].map(([partition, offset]) => ({ topic: t, partition, offset: String(offset) })),
    );
  } finally {
    await consumer.disconnect();
  }
  return got;
}

let producer: KafkaProducerSink;

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  producer = createKafkaProducerSink(cfg, { log: quiet });
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  const admin = kafkaClient(cfg, quiet).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => undefined);
  await admin.disconnect();
});

describe('Kafka sinks on the real broker', () => {
  it('creates topics once and reports existing ones on later calls', async () => {
    const first = await ensureTopics(
      cfg,
      [
        { name: topic, partitions: 3 },
        { name: dlq, partitions: 1 },
      ],
      { log: quiet },
    );
    expect(first.created.sort()).toEqual([dlq, topic].sort());
    const again = await ensureTopics(
      cfg,
      [
        { name: topic, partitions: 5 },
        { name: dlq, partitions: 1 },
      ],
      { log: quiet },
    );
    expect(again).toEqual({ created: [], existing: [topic, dlq] });
    // Partition counts are never changed by a later call.
    expect(
      (await endOffsets(cfg, topic, { log: quiet })).map((p) => [p.partition, p.high, p.low]),
    ).toEqual([
      [0, 0, 0],
      [1, 0, 0],
      [2, 0, 0],
    ]);
  });

  it('resolves send() only after every message is on the broker, and they read back intact', async () => {
    const n = 300;
    const messages = Array.from({ length: n }, (_, i) => ({
      key: `user-${i % 17}`,
      value: JSON.stringify({ event_id: `e-${i}`, user_id: `user-${i % 17}`, text: 'naïve ✓' }),
      headers: { source: 'sinks-test', seq: String(i) },
    }));
    const acks = await producer.send(topic, messages);
    expect(acks.length).toBeGreaterThan(0);
    // Acknowledged means durable: the log ends already count every message.
    const ends = await endOffsets(cfg, topic, { log: quiet });
    expect(ends.reduce((s, p) => s + p.high, 0)).toBe(n);

    const group = `${run}-reader`;
    const got = await consume(topic, n, group);
    expect(got).toHaveLength(n);
    const byValue = new Map(got.map((m) => [m.value, m]));
    for (const m of messages) {
      const r = byValue.get(m.value);
      expect(r, m.value).toBeDefined();
      expect(r!.key).toBe(m.key);
      expect(r!.headers).toEqual(m.headers);
    }
    // Keyed by user: every user's messages stay in one partition, in send order.
    const partitionsOf = new Map<string, Set<number>>();
    for (const m of got)
      (partitionsOf.get(m.key!) ?? partitionsOf.set(m.key!, new Set()).get(m.key!)!).add(
        m.partition,
      );
    for (const parts of partitionsOf.values()) expect(parts.size).toBe(1);

    const committed = await committedOffsets(cfg, group, topic, { log: quiet });
    expect(committed.map((c) => c.offset)).toEqual(ends.map((e) => e.high));
    expect(await consumerLag(cfg, group, topic, { log: quiet })).toBe(0);
    expect(await consumerLag(cfg, `${run}-never-read`, topic, { log: quiet })).toBe(n);
    expect(
      (await committedOffsets(cfg, `${run}-never-read`, topic, { log: quiet })).every(
        (c) => c.offset === -1,
      ),
    ).toBe(true);
  });

  it('writes dead letters with the reason header and the documented JSON value', async () => {
    const letters: DeadLetter[] = [
      {
        topic: 'clickstream',
        partition: 2,
        offset: 41,
        key: 'user-9',
        payload: '{"event_id": "broken", "ts": ',
        reason: 'malformed_json: Unexpected end of JSON input',
        receivedAt: 1_763_900_000_000,
      },
      {
        topic: 'clickstream',
        partition: 0,
        offset: 7,
        payload: 'x'.repeat(100_000),
        reason: 'oversized: 100000 bytes > 16384',
        receivedAt: 1_763_900_000_001,
      },
    ];
    await producer.send(dlq, letters.map(deadLetterMessage));
    const got = (await consume(dlq, letters.length, `${run}-dlq-reader`)).sort(
      (a, b) => a.offset - b.offset,
    );
    expect(got.map((m) => m.headers.reason)).toEqual(['malformed_json', 'oversized']);
    expect(got[0]!.key).toBe('user-9');
    expect(got[0]!.headers).toMatchObject({
      'source-topic': 'clickstream',
      'source-partition': '2',
      'source-offset': '41',
    });
    expect(JSON.parse(got[0]!.value)).toEqual({
      reason: 'malformed_json: Unexpected end of JSON input',
      topic: 'clickstream',
      partition: 2,
      offset: 41,
      key: 'user-9',
      payload: '{"event_id": "broken", "ts": ',
      received_at: 1_763_900_000_000,
    });
    const big = JSON.parse(got[1]!.value) as {
      payload: string;
      payload_truncated: boolean;
      payload_bytes: number;
    };
    expect(big.payload_truncated).toBe(true);
    expect(big.payload_bytes).toBe(100_000);
    expect(big.payload.length).toBe(64 * 1024);
  });

  it('refuses to send before connect()', async () => {
    const p = createKafkaProducerSink(cfg, { log: quiet });
    await expect(p.send(topic, [{ value: 'x' }])).rejects.toThrow(/before connect/);
    await p.disconnect();
  });
});
