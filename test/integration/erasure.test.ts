import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackUp } from '../../stack/stack.js';
import {
  createClickHouseExec,
  sqlString,
  type ClickHouseExec,
} from '../../sinks/clickhouse-erase.js';
import { redisSecurityOptions } from '../../sinks/redis.js';
import { featureChangelogTopic } from '../../pipeline/runtime/feature-changelog.js';
import {
  changelogRecord as changelogOf,
  clickhouseMentions as scanClickHouse,
  redisMentions as scanRedis,
} from '../support/erasure-scan.js';
import { lastJson, runCli, startJob, waitFor, type Job } from '../support/cli.js';
import { isolatedRun, waitForCommittedToEnd } from '../support/run-env.js';

/**
 * Issue 16 acceptance on the real stack: a shopper with events, purchases, a push, features, a
 * dead letter and a model snapshot is forgotten while `recpipe run` runs. Afterwards no Redis key,
 * member or value (snapshots included) and no ClickHouse row names them, `recs` serves the
 * fallback, and neither a restart nor restoring the snapshot taken before the erasure brings
 * anything back. The audit row is there, with hashes only.
 */
const {
  name: run,
  env,
  cfg,
} = isolatedRun('erase', {
  RECPIPE_PRIVACY_TOPIC: `erase${Date.now().toString(36)}-privacy`,
  RECPIPE_PIPELINE_SNAPSHOT_INTERVAL_MS: '1000',
  RECPIPE_PIPELINE_SNAPSHOT_EVERY_EVENTS: '1',
  RECPIPE_PUSH_POLICY: 'static',
  RECPIPE_PUSH_HOLDOUT_FRACTION: '0',
  RECPIPE_PUSH_QUIET_HOURS_START: '00:00',
  RECPIPE_PUSH_QUIET_HOURS_END: '00:00',
  RECPIPE_LOG_LEVEL: 'info',
});
const VICTIM = `victim-${run}`;
const dir = mkdtempSync(join(tmpdir(), 'recpipe-erase-'));
const T0 = Date.parse('2026-11-02T10:00:00Z');
let n = 0;
const ev = (type: string, user: string, item: string, minute: number): string =>
  JSON.stringify({
    event_id: `${run}-${n++}`,
    ts: T0 + minute * 60_000,
    user_id: user,
    item_id: item,
    type,
    category: 'HOME',
  });

let redis: Redis;
let ch: ClickHouseExec;
let job: Job | undefined;

const produce = async (topic: string, lines: string[]): Promise<void> => {
  const file = join(dir, `${n++}.jsonl`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = await runCli(['produce', '--input', file, '--topic', topic], env);
  expect(r.code, r.stderr).toBe(0);
};
const drained = (): Promise<void> =>
  waitForCommittedToEnd(cfg, 120_000).catch((err: Error) => {
    throw new Error(`${err.message}\njob log:\n${job?.logs().slice(-3000) ?? ''}`);
  });
const stop = async (): Promise<void> => {
  const j = job as Job;
  j.child.kill('SIGTERM');
  expect(await j.exited, j.logs().slice(-3000)).toBe(0);
};

const redisMentions = (): Promise<string[]> => scanRedis(redis, cfg.redis.prefix, [VICTIM]);
const clickhouseMentions = (): Promise<Record<string, number>> => scanClickHouse(ch, run, [VICTIM]);
const changelogRecord = (): Promise<Buffer | null | undefined> => changelogOf(cfg, VICTIM);
const featureRecord = (): Promise<Buffer | null | undefined> =>
  changelogOf(cfg, VICTIM, featureChangelogTopic(cfg.kafka.groupId));

const snapshotKeys = async (): Promise<string[]> => redis.keys(`${cfg.redis.prefix}snapshot:*`);

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  redis = new Redis(cfg.redis.url, redisSecurityOptions(cfg));
  ch = createClickHouseExec(cfg);
});

afterAll(async () => {
  if (job && job.child.exitCode === null) job.child.kill('SIGKILL');
  redis?.disconnect();
  await ch?.close();
});

describe('right to erasure on the real stack', () => {
  it('forgets a user everywhere, for good, and audits it', { timeout: 300_000 }, async () => {
    job = startJob(['--http-port', '0'], env);
    const others = ['ann', 'bob', 'cy'].map((u) => `${u}-${run}`);
    await produce(cfg.kafka.inputTopic, [
      ...others.flatMap((u, i) => [
        ev('view', u, 'mug', i),
        ev('purchase', u, 'mug', i + 1),
        ev('purchase', u, 'lamp', i + 2),
        ev('view', u, 'vase', i + 3),
      ]),
      ev('view', VICTIM, 'mug', 5),
      ev('purchase', VICTIM, 'mug', 6),
      ev('view', VICTIM, 'lamp', 7),
      ev('add_to_cart', VICTIM, 'vase', 8),
      // a dead letter keyed by the victim: no event_id
      JSON.stringify({ ts: T0, user_id: VICTIM, item_id: 'mug', type: 'view' }),
    ]);
    await drained();
    // The cart is abandoned once event time passes 30 min (idle advance moves it to the clock).
    await waitFor(
      'the abandoned-cart push row',
      async () => {
        const [r] = await ch.query<{ n: string }>(
          `SELECT count() AS n FROM \`${run}\`.push_notifications WHERE user_id = ${sqlString(VICTIM)} AND decision = 'sent'`,
        );
        return Number(r?.n) > 0;
      },
      90_000,
      500,
    );
    await waitFor(
      'a snapshot that names the victim',
      async () => {
        for (const k of await snapshotKeys())
          if ((await redis.getBuffer(k))?.includes(Buffer.from(VICTIM))) return true;
        return false;
      },
      60_000,
      500,
    );
    const [oldSnapshotKey] = await snapshotKeys();
    const oldSnapshot = (await redis.getBuffer(oldSnapshotKey as string)) as Buffer;
    // Not a vacuous test: every kind of state names the victim now.
    const before = await redisMentions();
    for (const family of ['rec:', 'hist:bought:', 'feat:user:', 'push:sent:', 'snapshot:'])
      expect(
        before.some((k) => k.includes(family)),
        family,
      ).toBe(true);
    const chBefore = await clickhouseMentions();
    for (const t of ['events', 'features', 'recommendations', 'push_notifications', 'dead_letters'])
      expect(chBefore[t], t).toBeGreaterThan(0);

    expect(await changelogRecord()).toBeInstanceOf(Buffer);
    expect(await featureRecord()).toBeInstanceOf(Buffer);

    // The request, through the CLI: it publishes to `privacy` and erases the stores itself.
    const forgot = await runCli(['forget', VICTIM, '--json'], env);
    expect(forgot.code, forgot.stderr).toBe(0);
    const out = lastJson<{
      forgotten: string[];
      request_id: string;
      seconds: number;
      published: boolean;
    }>(forgot.stdout);
    expect(out.forgotten).toEqual([VICTIM]);
    expect(out.published).toBe(true);
    // The job's part: memory, a clean snapshot, the stores again, its share of the audit row.
    const audit = await waitFor(
      "the job's part of the audit row",
      async () => {
        const [r] = await ch.query<{
          removed: string;
          user_hashes: string[];
          requested_ms: string;
          completed_ms: string;
        }>(
          `SELECT removed, user_hashes, toString(requested_ms) AS requested_ms, toString(completed_ms) AS completed_ms
           FROM \`${run}\`.erasures FINAL WHERE request_id = ${sqlString(out.request_id)}`,
        );
        return r && r.removed.includes('"run:') ? r : undefined;
      },
      60_000,
      250,
    );
    const jobMs = Number(audit.completed_ms) - Number(audit.requested_ms);
    process.stderr.write(
      `erasure: forget command ${out.seconds} s; request → job completed ${jobMs} ms\n`,
    );
    expect(jobMs).toBeLessThan(60_000);
    expect(JSON.stringify(audit)).not.toContain(VICTIM);
    const removed = JSON.parse(audit.removed) as Record<string, { online?: { model: number } }>;
    const jobPart = Object.entries(removed).find(([k]) => k.startsWith('run:'))?.[1];
    expect(jobPart?.online?.model).toBe(1);

    // An event of the victim from before the request, read only now (a backlog): dropped.
    await produce(cfg.kafka.inputTopic, [ev('view', VICTIM, 'vase', 30)]);
    await drained();
    expect(await redisMentions()).toEqual([]);
    expect(await changelogRecord()).toBeNull();
    expect(await featureRecord()).toBeNull();
    expect(
      Object.values(await clickhouseMentions()).every((c) => c === 0),
      JSON.stringify(await clickhouseMentions()),
    ).toBe(true);
    const recs = await runCli(['recs', VICTIM, '--json'], env);
    const served = lastJson<{ items: { reason: string }[] }>(recs.stdout);
    expect(served.items.length).toBeGreaterThan(0);
    expect(served.items.every((i) => i.reason === 'popular')).toBe(true);

    // A clean restart, then a restart from the snapshot taken before the erasure: nothing returns.
    await stop();
    expect(await redisMentions()).toEqual([]);
    await redis.set(oldSnapshotKey as string, oldSnapshot, 'EX', 3600);
    job = startJob(['--http-port', '0'], env);
    await produce(cfg.kafka.inputTopic, [ev('view', others[0] as string, 'mug', 60)]);
    await drained();
    await stop();
    expect(job.logs()).toContain('erasure log replayed');
    expect(await redisMentions()).toEqual([]);
    expect(await changelogRecord()).toBeNull();
    expect(await featureRecord()).toBeNull();
    expect(Object.values(await clickhouseMentions()).every((c) => c === 0)).toBe(true);
  });

  it(
    'serves an opted-out user the fallback only and keeps no personal state',
    { timeout: 180_000 },
    async () => {
      const user = `optout-${run}`;
      job = startJob(['--http-port', '0'], env);
      await produce(cfg.kafka.inputTopic, [
        ev('view', user, 'mug', 100),
        ev('purchase', user, 'lamp', 101),
      ]);
      await drained();
      await waitFor(
        'a personal list',
        async () => (await redis.exists(`${cfg.redis.prefix}rec:${user}`)) === 1,
      );
      const channels = { push: true, email: false, sms: false, in_app: true };
      await produce(cfg.kafka.preferencesTopic, [
        JSON.stringify({ user_id: user, ts: T0 + 102 * 60_000, channels, personalization: false }),
      ]);
      await waitForCommittedToEnd(cfg, 60_000, cfg.kafka.preferencesTopic);
      await produce(cfg.kafka.inputTopic, [
        ev('view', user, 'vase', 103),
        ev('add_to_cart', user, 'vase', 104),
      ]);
      await drained();
      const personal = ['rec:', 'rec:%:meta', 'feat:user:', 'hist:bought:'].map((f) =>
        f.includes('%')
          ? `${cfg.redis.prefix}${f.replace('%', user)}`
          : `${cfg.redis.prefix}${f}${user}`,
      );
      await waitFor(
        'the personal keys gone',
        async () => (await redis.exists(...personal)) === 0,
        30_000,
      );
      expect(await redis.zscore(`${cfg.redis.prefix}consent:optout`, user)).not.toBeNull();
      const recs = lastJson<{ items: { reason: string }[] }>(
        (await runCli(['recs', user, '--json'], env)).stdout,
      );
      expect(recs.items.length).toBeGreaterThan(0);
      expect(recs.items.every((i) => i.reason === 'popular')).toBe(true);
      // every event is still stored; the model, features and lists never saw the later ones
      const [r] = await ch.query<{ n: string }>(
        `SELECT count() AS n FROM \`${run}\`.events FINAL WHERE user_id = ${sqlString(user)}`,
      );
      expect(Number(r?.n)).toBe(4);
      await stop();
      expect(await redis.exists(...personal)).toBe(0);
      for (const k of await snapshotKeys())
        expect((await redis.getBuffer(k))?.includes(Buffer.from(JSON.stringify(user)))).toBe(false);
    },
  );
});
