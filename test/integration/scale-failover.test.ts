import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackUp } from '../../stack/stack.js';
import { createClickHouseSink, type ClickHouseSink } from '../../sinks/clickhouse.js';
import { lastJson, runCli, waitFor } from '../support/cli.js';
import { scrape, startInstances, type Instances } from '../support/instances.js';
import { readTopic } from '../support/kafka-read.js';
import { isolatedRun, waitForCommittedToEnd } from '../support/run-env.js';
import { syntheticStream } from '../support/synthetic-stream.js';

/**
 * Issue 8: three instances of one group on a 6-partition topic, one SIGKILLed mid-stream. The two
 * survivors take its partitions over: every event and dead letter ends up exactly once, the
 * group's offsets reach the end, and every user who had events after the kill is served a list
 * computed after their last event.
 */
const {
  name: run,
  env,
  cfg,
} = isolatedRun('scalek', {
  RECPIPE_KAFKA_PARTITIONS: '6',
  RECPIPE_PIPELINE_BATCH_MAX_MESSAGES: '200',
  RECPIPE_LOG_LEVEL: 'info',
});
const stream = syntheticStream({ events: 12_000, malformed: 120, duplicates: 300, seed: 9 });

let ch: ClickHouseSink;
let redis: Redis;
let group: Instances | undefined;

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  ch = createClickHouseSink(cfg);
  redis = new Redis(cfg.redis.url);
});

afterAll(async () => {
  if (group) {
    for (let i = 0; i < group.n; i++) {
      try {
        process.kill(group.pid(i), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await group.stop();
  }
  await ch?.close();
  redis?.disconnect();
});

const countEvents = async (): Promise<number> => {
  const rows = await ch.query<{ n: string }>(`SELECT count() AS n FROM ${run}.events FINAL`);
  return Number(rows[0]?.n ?? 0);
};

describe('three instances in one consumer group', () => {
  it('lose one to SIGKILL and still end with every event once and fresh recommendations', async () => {
    const input = join(mkdtempSync(join(tmpdir(), 'recpipe-scale-')), 'events.jsonl');
    writeFileSync(input, `${stream.lines.join('\n')}\n`);

    const g = (group = startInstances(3, [], env));
    const all = [0, 1, 2];
    await waitFor(
      'each of the 3 instances to own input partitions',
      async () =>
        all.every((i) => g.assignment(i).length > 0) &&
        new Set(all.flatMap((i) => g.assignment(i))).size === 6,
      120_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${all.map((i) => g.log(i).slice(-1500)).join('\n---\n')}`);
    });

    const produced = runCli(
      ['produce', '--input', input, '--partitions', '6', '--rate', '1500', '--json'],
      env,
    );
    await waitFor('the first events in ClickHouse', async () => (await countEvents()) >= 3000);
    const victim = 1;
    const victimPartitions = g.assignment(victim);
    process.kill(g.pid(victim), 'SIGKILL');
    const killedAt = Date.now();

    const p = await produced;
    expect(p.code, p.stderr).toBe(0);
    expect(lastJson<{ produced: number }>(p.stdout).produced).toBe(stream.lines.length);

    await waitForCommittedToEnd(cfg, 240_000).catch((err: Error) => {
      throw new Error(
        `${err.message}\n${[0, 2].map((i) => g.log(i).slice(-2500)).join('\n---\n')}`,
      );
    });
    // The survivors own everything, the victim's partitions included.
    const survivors = [0, 2];
    expect(new Set(survivors.flatMap((i) => g.assignment(i)))).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    expect(victimPartitions.length).toBeGreaterThan(0);

    // Users whose events were (re)processed after the kill: each is served a list refreshed after
    // the kill and computed with their last event (by offset) already learned.
    const afterKill = await ch.query<{ user_id: string; last_ts: string }>(
      `SELECT user_id, toString(argMax(ts_ms, source_offset)) AS last_ts FROM ${run}.events FINAL
       GROUP BY user_id HAVING max(ingested_at) > toDateTime(${Math.floor(killedAt / 1000)})`,
    );
    expect(afterKill.length).toBeGreaterThan(10);
    const stale: string[] = [];
    for (const u of afterKill) {
      const meta = await redis.hgetall(`${cfg.redis.prefix}rec:${u.user_id}:meta`);
      const fresh =
        Number(meta.updated_at ?? 0) >= killedAt && Number(meta.event_ts ?? 0) >= Number(u.last_ts);
      if (!fresh) stale.push(`${u.user_id} ${JSON.stringify(meta).slice(0, 200)}`);
    }
    expect(stale, stale.slice(0, 5).join('\n')).toEqual([]);
    console.log(
      `killed instance ${victim} (partitions ${victimPartitions.join(',')}); ` +
        `offsets at the end ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill; ` +
        `${afterKill.length} users (re)served after it, none stale`,
    );

    // How far behind the other instances' partitions each served batch's shared state was.
    for (const i of survivors) {
      const port = g.port(i) as number;
      const served = await scrape(port, 'recpipe_serving_staleness_seconds_count');
      const within1s = await scrape(port, 'recpipe_serving_staleness_seconds_bucket', 'le="1"');
      const timeouts = await scrape(port, 'recpipe_serving_hold_timeouts_total');
      console.log(
        `instance ${i}: ${served} batches served, hold timeouts ${timeouts}, ` +
          `follower lag ${await scrape(port, 'recpipe_follower_lag_messages')} messages ` +
          `(${within1s} within 1 s)`,
      );
    }

    expect(await g.stop()).not.toBe(null);
    for (const i of survivors)
      expect(g.output(), g.log(i).slice(-2000)).toContain(`instance ${i} exited with 0`);

    const ids = await ch.query<{ event_id: string }>(`SELECT event_id FROM ${run}.events FINAL`);
    expect(ids.length).toBe(stream.validIds.size);
    expect(new Set(ids.map((r) => r.event_id))).toEqual(stream.validIds);

    const dead = await ch.query<{ n: string }>(
      `SELECT count() AS n FROM ${run}.dead_letters FINAL`,
    );
    expect(Number(dead[0]?.n)).toBe(stream.malformedLines.length);

    // The victim's open transaction is aborted (fenced or timed out): read_committed readers of
    // the DLQ see each dead letter once.
    const dlq = await readTopic(cfg.kafka.brokers, cfg.kafka.dlqTopic, 3000, 90_000);
    const sources = new Set(
      dlq.map((m) => {
        const v = JSON.parse(m.value) as { partition: number; offset: number };
        return `${v.partition}/${v.offset}`;
      }),
    );
    expect(sources.size).toBe(stream.malformedLines.length);
    expect(dlq.length).toBe(stream.malformedLines.length);
  });
});
