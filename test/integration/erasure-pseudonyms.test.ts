import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userIdHasher } from '../../operators/hash-user-ids.js';
import { stackUp } from '../../stack/stack.js';
import { createClickHouseExec, type ClickHouseExec } from '../../sinks/clickhouse-erase.js';
import { redisSecurityOptions } from '../../sinks/redis.js';
import { featureChangelogTopic } from '../../pipeline/runtime/feature-changelog.js';
import { lastJson, runCli, startJob, waitFor, type Job } from '../support/cli.js';
import { changelogRecord, clickhouseMentions, redisMentions } from '../support/erasure-scan.js';
import { isolatedRun, waitForCommittedToEnd } from '../support/run-env.js';

/**
 * Erasure with pseudonyms on (privacy.userIdHashKey): the stores hold HMAC pseudonyms, the dead
 * letters and Kafka keys the raw id. `forget RAW_ID` must remove both, through the running job.
 */
const KEY = 'erasure-test-key';
const {
  name: run,
  env,
  cfg,
} = isolatedRun('erasep', {
  RECPIPE_PRIVACY_TOPIC: `erasep${Date.now().toString(36)}-privacy`,
  RECPIPE_PRIVACY_USER_ID_HASH_KEY: KEY,
  RECPIPE_PIPELINE_SNAPSHOT_INTERVAL_MS: '1000',
  RECPIPE_PIPELINE_SNAPSHOT_EVERY_EVENTS: '1',
  RECPIPE_PUSH_HOLDOUT_FRACTION: '0',
});
const VICTIM = `victim-${run}`;
const PSEUDONYM = userIdHasher(KEY)(VICTIM);
const dir = mkdtempSync(join(tmpdir(), 'recpipe-erasep-'));
const T0 = Date.parse('2026-11-02T10:00:00Z');
let n = 0;
const ev = (type: string, user: string, item: string, minute: number): string =>
  JSON.stringify({
    event_id: `${run}-${n++}`,
    ts: T0 + minute * 60_000,
    user_id: user,
    item_id: item,
    type,
  });

let redis: Redis;
let ch: ClickHouseExec;
let job: Job | undefined;

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

describe('erasure with pseudonyms on', () => {
  it('removes the raw id and the pseudonym everywhere', { timeout: 180_000 }, async () => {
    job = startJob(['--http-port', '0'], env);
    const file = join(dir, 'events.jsonl');
    writeFileSync(
      file,
      `${[
        ev('view', `other-${run}`, 'mug', 0),
        ev('purchase', `other-${run}`, 'lamp', 1),
        ev('view', VICTIM, 'mug', 2),
        ev('purchase', VICTIM, 'lamp', 3),
        ev('add_to_cart', VICTIM, 'vase', 4),
        JSON.stringify({ ts: T0, user_id: VICTIM, item_id: 'mug', type: 'view' }),
      ].join('\n')}\n`,
    );
    const produced = await runCli(['produce', '--input', file], env);
    expect(produced.code, produced.stderr).toBe(0);
    await waitForCommittedToEnd(cfg, 120_000);
    await waitFor(
      'a snapshot with the pseudonym',
      async () => {
        for (const k of await redis.keys(`${cfg.redis.prefix}snapshot:*`))
          if ((await redis.getBuffer(k))?.includes(Buffer.from(PSEUDONYM))) return true;
        return false;
      },
      60_000,
      500,
    );
    const needles = [VICTIM, PSEUDONYM];
    const featureTopic = featureChangelogTopic(cfg.kafka.groupId);
    // the feature windows' changelog is keyed by the pseudonym too
    expect(await changelogRecord(cfg, PSEUDONYM, featureTopic)).toBeInstanceOf(Buffer);
    // not vacuous: the stores hold the pseudonym, the dead letters the raw id
    expect(await redis.exists(`${cfg.redis.prefix}rec:${PSEUDONYM}`)).toBe(1);
    expect(await redis.exists(`${cfg.redis.prefix}rec:${VICTIM}`)).toBe(0);
    const before = await clickhouseMentions(ch, run, needles);
    expect(before.events).toBeGreaterThan(0);
    expect(before.dead_letters).toBeGreaterThan(0);

    const forgot = await runCli(['forget', VICTIM, '--json'], env);
    expect(forgot.code, forgot.stderr).toBe(0);
    const { request_id } = lastJson<{ request_id: string }>(forgot.stdout);
    await waitFor(
      "the job's part of the audit row",
      async () => {
        const [r] = await ch.query<{ removed: string }>(
          `SELECT removed FROM \`${run}\`.erasures FINAL WHERE request_id = '${request_id}'`,
        );
        return r?.removed.includes('"run:');
      },
      60_000,
      250,
    );
    expect(await redisMentions(redis, cfg.redis.prefix, needles)).toEqual([]);
    const after = await clickhouseMentions(ch, run, needles);
    expect(
      Object.values(after).every((c) => c === 0),
      JSON.stringify(after),
    ).toBe(true);
    expect(await changelogRecord(cfg, VICTIM)).toBeUndefined();
    expect(await changelogRecord(cfg, PSEUDONYM)).toBeNull();
    expect(await changelogRecord(cfg, VICTIM, featureTopic)).toBeUndefined();
    expect(await changelogRecord(cfg, PSEUDONYM, featureTopic)).toBeNull();
    job.child.kill('SIGTERM');
    expect(await job.exited, job.logs().slice(-3000)).toBe(0);
    expect(await redisMentions(redis, cfg.redis.prefix, needles)).toEqual([]);
  });
});
