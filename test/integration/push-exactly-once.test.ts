import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyKey } from '../../push/clock.js';
import type { PushDecision, PushMessage } from '../../push/types.js';
import { TransactionalProducer } from '../../kafka/transactional-producer.js';
import type { KafkaConsumer } from '../../kafka/rdkafka.js';
import { createRedisPushClaims } from '../../sinks/redis-push-policy.js';
import { encodeKeyId } from '../../sinks/redis.js';
import { stackUp } from '../../stack/stack.js';
import { createClickHouseSink, type ClickHouseSink } from '../../sinks/clickhouse.js';
import { committedOffsets } from '../../kafka/admin.js';
import { runCli, startJob, waitFor, type Job } from '../support/cli.js';
import { readTopic } from '../support/kafka-read.js';
import { isolatedRun, waitForCommittedToEnd } from '../support/run-env.js';

/**
 * Issue 13 item 2: kill -9 at random points, five times, while a push-heavy stream is produced
 * and processed. A crash between a push's Redis claim and the Kafka commit of its message used
 * to leave a `sent` row without a message (7 of 775). Now, for every idempotency key: a `sent`
 * row in ClickHouse ⇔ exactly one message on the push topic, read as read_committed consumers do.
 */
const {
  name: run,
  env,
  cfg,
} = isolatedRun('pushonce', {
  RECPIPE_PUSH_POLICY: 'static',
  RECPIPE_PUSH_HOLDOUT_FRACTION: '0',
  // Frequent, small transactions: more claims in flight when the kill comes.
  RECPIPE_PIPELINE_BATCH_MAX_MESSAGES: '100',
});
const dir = mkdtempSync(join(tmpdir(), 'recpipe-pushonce-'));
const USERS = 1_500;
const EVENTS = 6_000;
const KILLS = 5;
/** Event time starts on a morning well in the past: idle advance fires whatever is left. */
const BASE = Date.parse('2026-11-30T08:00:00Z');

// Each user first leaves an item in the cart, then only browses (hours of event time later):
// abandoned carts 30 min after each add, price-free recommendation and burst pushes, quiet-hour
// deferrals in the evening.
const lines: string[] = [];
for (let k = 0; k < EVENTS; k++) {
  const user = `u${k % USERS}`;
  const cart = k < USERS;
  lines.push(
    JSON.stringify({
      event_id: `${run}-${k}`,
      ts: BASE + k * 10_000,
      user_id: user,
      item_id: `i${cart ? (k * 7) % 200 : (k * 13 + (k % 7)) % 200}`,
      type: cart ? 'add_to_cart' : k % 5 === 0 ? 'click' : 'view',
    }),
  );
}

let ch: ClickHouseSink;
let job: Job | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Offsets the job committed so far (0 before the topic exists). */
const committed = async (): Promise<number> =>
  (await committedOffsets(cfg, cfg.kafka.groupId, cfg.kafka.inputTopic).catch(() => [])).reduce(
    (s, p) => s + Math.max(0, p.offset),
    0,
  );

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  ch = createClickHouseSink(cfg);
});

afterAll(async () => {
  if (job && job.child.exitCode === null) job.child.kill('SIGKILL');
  await ch?.close();
});

describe('push exactly-once across kill -9', () => {
  it('sent row ⇔ exactly one committed message, for every idempotency key', async () => {
    const file = join(dir, 'stream.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    // ~40 s of production at 150/s, not awaited: the kills land while it flows.
    const produced = runCli(
      ['produce', '--input', file, '--partitions', '3', '--rate', '150', '--json'],
      env,
    );
    const delays: number[] = [];
    let resent = 0;
    const countResent = (logs: string): void => {
      for (const m of logs.matchAll(/"resent":(\d+)/g)) resent += Number(m[1]);
    };
    for (let i = 0; i < KILLS; i++) {
      job = startJob(['--http-port', '0'], env);
      // A random point once this run commits: claims of uncommitted batches are in flight.
      const before = await committed();
      // (Once the stream is all committed there is nothing left to wait for.)
      await waitFor(
        'the job to commit',
        async () => (await committed()) > before,
        15_000,
        100,
      ).catch(() => undefined);
      const delay = Math.floor(Math.random() * 2_000);
      delays.push(delay);
      await sleep(delay);
      job.child.kill('SIGKILL');
      await job.exited;
      countResent(job.logs());
    }
    const p = await produced;
    expect(p.code, p.stderr).toBe(0);

    job = startJob(['--http-port', '0'], env);
    await waitForCommittedToEnd(cfg, 90_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${job?.logs().slice(-3000) ?? ''}`);
    });
    // Idle advance (5 s caught up) moves event time to the clock: every timer left fires.
    const sentKeys = async (): Promise<string[]> =>
      (
        await ch.query<{ k: string }>(
          `SELECT DISTINCT idempotency_key AS k FROM ${run}.push_notifications FINAL
           WHERE decision = 'sent'`,
        )
      ).map((r) => r.k);
    let last = -1;
    await waitFor(
      'push decisions to settle',
      async () => {
        const n = (await sentKeys()).length;
        const stable = n === last;
        last = n;
        return stable && n > 0;
      },
      60_000,
      4_000,
    );
    job.child.kill('SIGTERM');
    expect(await job.exited, job.logs().slice(-3000)).toBe(0);
    countResent(job.logs());

    const messages = await readTopic(cfg.kafka.brokers, cfg.kafka.pushTopic, 3_000, 60_000);
    const perKey = new Map<string, number>();
    for (const m of messages) {
      const key = m.headers['idempotency-key'] ?? '';
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
    }
    const sent = new Set(await sentKeys());
    const duplicated = [...perKey].filter(([, n]) => n > 1).map(([k]) => k);
    const withoutMessage = [...sent].filter((k) => !perKey.has(k));
    const withoutRow = [...perKey.keys()].filter((k) => !sent.has(k));
    console.log(
      `push exactly-once: kills ${delays.join(', ')} ms after a commit; ${messages.length} messages, ` +
        `${sent.size} sent keys, ${resent} re-sent from the outbox; duplicated ` +
        `${duplicated.length}, sent without message ${withoutMessage.length}, message without ` +
        `row ${withoutRow.length}`,
    );
    expect(sent.size).toBeGreaterThan(300);
    expect(duplicated).toEqual([]);
    expect(withoutMessage).toEqual([]);
    expect(withoutRow).toEqual([]);
  });

  it('claims a crash left behind: the uncommitted push is sent again with its key, the committed one is not', async () => {
    const crash = isolatedRun('pushcrash', {
      RECPIPE_PUSH_POLICY: 'static',
      RECPIPE_PUSH_HOLDOUT_FRACTION: '0',
    });
    const c = crash.cfg;
    const ts = BASE;
    const decision = (user: string): PushDecision => {
      const key = idempotencyKey(user, 'abandoned_cart', 'i1', ts);
      return {
        userId: user,
        trigger: 'abandoned_cart',
        decision: 'sent',
        reason: 'sent: push (test)',
        ts,
        items: ['i1'],
        idempotencyKey: key,
        payload: JSON.stringify({ user_id: user, idempotency_key: key }),
        pushId: key,
        channel: 'push',
        variant: 'A',
        propensity: 1,
        variantPropensity: 1,
        scheduledFor: ts,
        holdout: false,
        pOpen: 0.1,
        uplift: 0.01,
        locale: 'en',
      };
    };
    const message = (d: PushDecision): PushMessage => ({
      idempotencyKey: d.idempotencyKey,
      key: d.userId,
      value: d.payload ?? '',
      headers: { trigger: d.trigger, 'idempotency-key': d.idempotencyKey },
    });
    const lost = decision('lost-user');
    const done = decision('done-user');
    // The input topic exists (3 partitions) with one old event, so the job is assigned.
    const file = join(dir, 'crash.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ event_id: `${crash.name}-0`, ts: BASE - 86_400_000, user_id: 'x', item_id: 'i1', type: 'view' })}\n`,
    );
    const p = await runCli(['produce', '--input', file, '--partitions', '3', '--json'], crash.env);
    expect(p.code, p.stderr).toBe(0);
    // What a crashed job leaves: both pushes claimed with outbox entries (partitions 0 and 2),
    // only `done`'s message committed.
    const claims = createRedisPushClaims(c);
    const partitionOf = (u: string) => (u === lost.userId ? 0 : 2);
    const r = await claims.claimWithOutbox?.([lost, done], [lost, done].map(message), partitionOf);
    expect(r?.messages.length).toBe(2);
    await claims.close();
    const producer = new TransactionalProducer(c, `${crash.name}-crashed`);
    await producer.connect();
    const m = message(done);
    await producer.commit(
      [{ topic: c.kafka.pushTopic, key: m.key, value: m.value, headers: m.headers }],
      [],
      undefined as unknown as KafkaConsumer,
    );
    await producer.disconnect();

    job = startJob(['--http-port', '0'], crash.env);
    await waitForCommittedToEnd(c, 60_000);
    const redis = new Redis(c.redis.url);
    const outbox = (partition: number) =>
      redis.hlen(`${c.redis.prefix}push:outbox:${encodeKeyId(c.kafka.groupId)}:${partition}`);
    await waitFor('the outbox to be settled', async () =>
      (await outbox(0)) + (await outbox(2)) === 0 ? true : undefined,
    ).finally(() => redis.quit());
    job.child.kill('SIGTERM');
    expect(await job.exited, job.logs().slice(-3000)).toBe(0);

    const keys = (await readTopic(c.kafka.brokers, c.kafka.pushTopic, 2_000)).map(
      (x) => x.headers['idempotency-key'],
    );
    expect(keys.sort()).toEqual([lost.idempotencyKey, done.idempotencyKey].sort());
    const rows = await ch.query<{ k: string }>(
      `SELECT idempotency_key AS k FROM ${crash.name}.push_notifications FINAL
       WHERE decision = 'sent'`,
    );
    expect(rows.map((x) => x.k)).toContain(lost.idempotencyKey);
    expect(job.logs()).toMatch(
      /push outbox resolved.*"committed":1.*"resent":1|"committed":1,"resent":1/,
    );
  });
});
