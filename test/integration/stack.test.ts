import { createRequire } from 'node:module';
import { createClient } from '@clickhouse/client';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { startService, stackStatus, stackUp, stopService } from '../../stack/stack.js';

type KafkaModule = typeof import('@confluentinc/kafka-javascript');
const { KafkaJS } = createRequire(import.meta.url)('@confluentinc/kafka-javascript') as KafkaModule;

/**
 * The real local stack. Deliberately no stackDown at the end: the other integration files reuse the
 * running services, and starting Kafka again for each file would cost seconds per file.
 */
const cfg = loadConfig();
const lines: string[] = [];
const log = (m: string): void => {
  lines.push(m);
};
const run = `stacktest-${Date.now().toString(36)}`;

describe('recpipe stack on real services', () => {
  it('brings up Kafka, Redis and ClickHouse on the configured endpoints', async () => {
    const endpoints = await stackUp(cfg, log);
    expect(endpoints).toEqual({
      kafka: cfg.kafka.brokers,
      redis: cfg.redis.url,
      clickhouse: cfg.clickhouse.url,
    });
    const status = await stackStatus(cfg);
    expect(status.running).toEqual({ kafka: true, redis: true, clickhouse: true });
    expect(status.endpoints).toEqual(endpoints);
  });

  it('Kafka accepts a message and hands it back to a consumer', async () => {
    const kafka = new KafkaJS.Kafka({
      kafkaJS: { brokers: [cfg.kafka.brokers], logLevel: KafkaJS.logLevel.ERROR },
    });
    const topic = `${run}-roundtrip`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
    await admin.disconnect();

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'u1', value: 'hello stack' }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ kafkaJS: { groupId: `${run}-group`, fromBeginning: true } });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    try {
      const received = await new Promise<{ key: string; value: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 60 s')), 60_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
          },
        });
      });
      expect(received).toEqual({ key: 'u1', value: 'hello stack' });
    } finally {
      await consumer.disconnect();
    }
  });

  it('Redis answers SET/GET and ClickHouse answers SELECT 1', async () => {
    const redis = new Redis(cfg.redis.url, { lazyConnect: true });
    await redis.connect();
    try {
      await redis.set(`${run}:k`, 'v', 'EX', 60);
      expect(await redis.get(`${run}:k`)).toBe('v');
    } finally {
      redis.disconnect();
    }

    const ch = createClient({
      url: cfg.clickhouse.url,
      username: cfg.clickhouse.username,
      password: cfg.clickhouse.password,
    });
    try {
      const rs = await ch.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' });
      expect(await rs.json()).toEqual([{ one: 1 }]);
    } finally {
      await ch.close();
    }
  });

  it('a second up is a no-op that keeps the same processes', async () => {
    const before = await stackStatus(cfg);
    lines.length = 0;
    const started = Date.now();
    await stackUp(cfg, log);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(lines.join('\n')).toContain('already up');
    expect(lines.join('\n')).not.toMatch(/started pid/);
    expect((await stackStatus(cfg)).pids).toEqual(before.pids);
  });

  it('stops and restarts Redis alone, keeping its data (append-only file)', async () => {
    const key = `${run}:durable`;
    const redis = new Redis(cfg.redis.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    await redis.connect();
    await redis.set(key, 'kept', 'EX', 600);
    redis.disconnect();
    const before = await stackStatus(cfg);

    await stopService(cfg, 'redis', log);
    const down = await stackStatus(cfg);
    expect(down.running).toEqual({ kafka: true, redis: false, clickhouse: true });
    expect(down.pids.redis).toBeUndefined();

    await startService(cfg, 'redis', log);
    const up = await stackStatus(cfg);
    expect(up.running).toEqual({ kafka: true, redis: true, clickhouse: true });
    expect(up.pids.redis).not.toBe(before.pids.redis);
    expect(up.pids.kafka).toBe(before.pids.kafka);

    const again = new Redis(cfg.redis.url, { lazyConnect: true });
    await again.connect();
    try {
      expect(await again.get(key)).toBe('kept');
    } finally {
      again.disconnect();
    }
  });
});
