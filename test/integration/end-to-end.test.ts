import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackUp } from '../../stack/stack.js';
import { createClickHouseSink, type ClickHouseSink } from '../../sinks/clickhouse.js';
import { lastJson, runCli, startJob, waitFor, type Job } from '../support/cli.js';
import { readTopic } from '../support/kafka-read.js';
import { isolatedRun, waitForCommittedToEnd } from '../support/run-env.js';
import { syntheticStream } from '../support/synthetic-stream.js';

/**
 * The Foundation acceptance test: real Kafka, Redis and ClickHouse; 10,000 events (plus repeats and
 * 120 malformed lines of 12 kinds) through `recpipe run`, SIGKILLed midway, restarted, then SIGTERMed.
 */
const { name: run, env, cfg } = isolatedRun('e2e', { RECPIPE_PIPELINE_BATCH_MAX_MESSAGES: '200' });
const stream = syntheticStream({ events: 10_000, malformed: 120, duplicates: 300, seed: 7 });

let ch: ClickHouseSink;
let redis: Redis;
let job: Job | undefined;

const countEvents = async (): Promise<number> => {
  const rows = await ch.query<{ n: string }>(`SELECT count() AS n FROM ${run}.events FINAL`);
  return Number(rows[0]?.n ?? 0);
};

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  ch = createClickHouseSink(cfg);
  redis = new Redis(cfg.redis.url);
});

afterAll(async () => {
  if (job && job.child.exitCode === null) job.child.kill('SIGKILL');
  await ch?.query(`SELECT 1`).catch(() => undefined);
  await ch?.close();
  redis?.disconnect();
});

describe('end to end on the real stack', () => {
  it('survives a SIGKILL mid-stream and ends with every event and dead letter exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recpipe-e2e-'));
    const input = join(dir, 'events.jsonl');
    writeFileSync(input, `${stream.lines.join('\n')}\n`);

    // The job first, then a rate-limited producer, so the kill lands while data is still arriving.
    job = startJob(['--http-port', '0'], env);
    const produced = runCli(
      ['produce', '--input', input, '--partitions', '3', '--rate', '2500', '--json'],
      env,
    );
    const first = job;
    await waitFor(
      'the first events in ClickHouse',
      async () => (await countEvents()) >= 2500,
      120_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\njob log:\n${first.logs().slice(-3000)}`);
    });
    job.child.kill('SIGKILL');
    expect(await job.exited).toBe(null);

    job = startJob(['--http-port', '0'], env);
    const p = await produced;
    expect(p.code, p.stderr).toBe(0);
    expect(lastJson<{ produced: number }>(p.stdout).produced).toBe(stream.lines.length);

    // Every partition's committed offset reaches the end of the topic.
    await waitForCommittedToEnd(cfg);

    // SIGTERM: flush, commit, exit 0.
    const running = job;
    running.child.kill('SIGTERM');
    expect(await running.exited, running.logs().slice(-3000)).toBe(0);

    const ids = await ch.query<{ event_id: string }>(`SELECT event_id FROM ${run}.events FINAL`);
    expect(ids.length).toBe(stream.validIds.size);
    expect(new Set(ids.map((r) => r.event_id))).toEqual(stream.validIds);

    const dead = await ch.query<{ offset: string; reason: string }>(
      `SELECT toString(offset) AS offset, reason FROM ${run}.dead_letters FINAL`,
    );
    expect(dead.length).toBe(stream.malformedLines.length);
    expect(dead.every((d) => d.reason.length > 0)).toBe(true);
    const reasonCodes = new Set(dead.map((d) => d.reason.split(':')[0]));
    expect(reasonCodes.size).toBeGreaterThanOrEqual(8);

    const dlq = await readTopic(cfg.kafka.brokers, cfg.kafka.dlqTopic);
    expect(dlq.length).toBe(stream.malformedLines.length);
    const dlqSources = new Set(
      dlq.map((m) => {
        const v = JSON.parse(m.value) as { partition: number; offset: number };
        return `${v.partition}/${v.offset}`;
      }),
    );
    expect(dlqSources.size).toBe(stream.malformedLines.length);
    expect(dlq.every((m) => (m.headers.reason ?? '').length > 0)).toBe(true);

    // Every served key has a TTL.
    const recKeys = await redis.keys(`${cfg.redis.prefix}rec:*`);
    expect(recKeys.length).toBeGreaterThan(0);
    const ttls = await Promise.all(recKeys.map((k) => redis.ttl(k)));
    expect(ttls.filter((t) => t <= 0)).toEqual([]);

    // A user's served recommendations, read as a downstream service would, exclude what they bought.
    const buyer = [...stream.purchases.keys()].find(
      (u) => (stream.purchases.get(u)?.size ?? 0) >= 2,
    ) as string;
    const recs = await runCli(['recs', buyer, '--json'], env);
    expect(recs.code, recs.stderr).toBe(0);
    const served = lastJson<{
      user_id: string;
      items: { item_id: string; score: number; reason: string }[];
      model_version: string;
    }>(recs.stdout);
    expect(served.user_id).toBe(buyer);
    expect(served.items.length).toBeGreaterThan(0);
    expect(served.model_version.length).toBeGreaterThan(0);
    for (const it of served.items) {
      expect(stream.purchases.get(buyer)?.has(it.item_id)).toBe(false);
      expect(it.reason.length).toBeGreaterThan(0);
    }
  });
});
