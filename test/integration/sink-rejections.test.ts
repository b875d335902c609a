import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackUp } from '../../stack/stack.js';
import { createClickHouseSink, type ClickHouseSink } from '../../sinks/clickhouse.js';
import { redisKeys } from '../../sinks/redis.js';
import { lastJson, runCli, startJob, type Job } from '../support/cli.js';
import { readTopic } from '../support/kafka-read.js';
import { isolatedRun, waitForCommittedToEnd } from '../support/run-env.js';

/**
 * Issue 12, item 2: a row a store refuses for its content is a dead letter and the batch commits;
 * on main the retry loop retried it forever and the partition never committed again. The refusals
 * are real: `events.session_id` altered to UInt32, so ClickHouse cannot parse the poison user's
 * session id (Code 27) while empty and numeric ones pass; and Redis keys of the wrong type where
 * the job keeps a user's purchases and features (WRONGTYPE).
 */
const { name: db, env, cfg } = isolatedRun('rej', { RECPIPE_PIPELINE_BATCH_MAX_MESSAGES: '50' });
let ch: ClickHouseSink;
let redis: Redis;
let job: Job | undefined;

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  ch = createClickHouseSink(cfg);
  await ch.migrate();
  const admin = createClient({
    url: cfg.clickhouse.url,
    username: cfg.clickhouse.username,
    password: cfg.clickhouse.password,
  });
  await admin.command({
    query: `ALTER TABLE ${db}.events MODIFY COLUMN session_id UInt32`,
  });
  await admin.close();
  redis = new Redis(cfg.redis.url);
  const keys = redisKeys(cfg.redis.prefix);
  await redis.set(keys.bought('poison-redis'), 'not a set', 'EX', 600);
  await redis.set(keys.feature('user', 'poison-redis'), 'not a hash', 'EX', 600);
});

afterAll(async () => {
  if (job && job.child.exitCode === null) job.child.kill('SIGKILL');
  await ch?.close();
  redis?.disconnect();
});

describe('rows a store refuses', () => {
  it('are dead-lettered (sink_rejected) and the batches commit', async () => {
    const t0 = Date.now() - 3_600_000;
    const lines: string[] = [];
    const ev = (i: number, user: string, type: string) =>
      JSON.stringify({
        event_id: `r${i}`,
        ts: t0 + i * 1000,
        user_id: user,
        item_id: `item-${i % 13}`,
        type,
        ...(i % 3 === 0 && { session_id: user === 'poison-ch' ? 'not-a-number' : String(i) }),
      });
    for (let i = 0; i < 200; i++)
      lines.push(ev(i, `user-${i % 20}`, i % 7 === 0 ? 'purchase' : 'view'));
    // with a session id that is not a number (i % 3 === 0): 1200 and 1203 are refused, 1001 not
    const poisonCh = [
      ev(1200, 'poison-ch', 'view'),
      ev(1203, 'poison-ch', 'purchase'),
      ev(1001, 'poison-ch', 'click'),
    ];
    const poisonRedis = [ev(2000, 'poison-redis', 'purchase'), ev(2001, 'poison-redis', 'view')];
    lines.splice(50, 0, ...poisonCh);
    lines.splice(120, 0, ...poisonRedis);
    const dir = mkdtempSync(join(tmpdir(), 'recpipe-rej-'));
    const input = join(dir, 'events.jsonl');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const p = await runCli(['produce', '--input', input, '--partitions', '2', '--json'], env);
    expect(p.code, p.stderr).toBe(0);
    expect(lastJson<{ produced: number }>(p.stdout).produced).toBe(lines.length);

    job = startJob(['--http-port', '0'], env);
    const running = job;
    await waitForCommittedToEnd(cfg, 90_000).catch((err: Error) => {
      throw new Error(`${err.message}\njob log:\n${running.logs().slice(-3000)}`);
    });
    running.child.kill('SIGTERM');
    expect(await running.exited, running.logs().slice(-3000)).toBe(0);

    const events = await ch.query<{ user_id: string }>(`SELECT user_id FROM ${db}.events FINAL`);
    expect(events.length).toBe(lines.length - 2);
    expect(events.filter((e) => e.user_id === 'poison-ch').length).toBe(1);

    const dead = await ch.query<{
      topic: string;
      reason_code: string;
      reason: string;
      payload: string;
    }>(`SELECT topic, reason_code, reason, payload FROM ${db}.dead_letters FINAL`);
    const fromEvents = dead.filter((d) => d.topic === cfg.kafka.inputTopic);
    expect(fromEvents.map((d) => d.reason_code)).toEqual(['sink_rejected', 'sink_rejected']);
    for (const d of fromEvents) {
      expect(d.reason).toMatch(/clickhouse\.events refused the row: .*Code: 27/);
      expect(JSON.parse(d.payload).userId).toBe('poison-ch');
    }
    const purchases = dead.filter((d) => d.topic === 'recpipe:redis.purchases');
    expect(purchases.length).toBe(1);
    expect(purchases[0]?.reason).toMatch(/WRONGTYPE/);
    expect(JSON.parse(purchases[0]?.payload ?? '{}').userId).toBe('poison-redis');
    expect(dead.some((d) => d.topic === 'recpipe:redis.features')).toBe(true);

    // the same dead letters reached the DLQ topic, in the batches' transactions
    const dlq = await readTopic(cfg.kafka.brokers, cfg.kafka.dlqTopic, 3000);
    expect(dlq.filter((m) => m.headers.reason === 'sink_rejected').length).toBe(
      dead.filter((d) => d.reason_code === 'sink_rejected').length,
    );
    // the other users were served as usual
    expect(await redis.exists(redisKeys(cfg.redis.prefix).rec('user-3'))).toBe(1);
  });
});
