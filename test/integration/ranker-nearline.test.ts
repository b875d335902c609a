import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F } from '../../models/ranking/model.js';
import { stackUp } from '../../stack/stack.js';
import { createClickHouseSink, type ClickHouseSink } from '../../sinks/clickhouse.js';
import { createKafkaProducerSink, type KafkaProducerSink } from '../../kafka/client.js';
import { redisKeys } from '../../sinks/redis.js';
import { lastJson, runCli, startJob, waitFor, type Job } from '../support/cli.js';
import { mulberry32 } from '../support/synthetic-stream.js';
import { isolatedRun, waitForCommittedToEnd } from '../support/run-env.js';

/**
 * The nearline loop on the real stack: `run` with the ranked model logs each served list's
 * features to ClickHouse; the trainer (every 3 s here) joins them with later purchases, fits
 * the ranker with TensorFlow.js and swaps it in while the stream keeps flowing. Lists served
 * after the swap carry the new model version, and the job still commits and stops cleanly.
 */
const {
  name: run,
  env,
  cfg,
} = isolatedRun('rk', {
  RECPIPE_PIPELINE_MODEL: 'ranked',
  RECPIPE_PIPELINE_BATCH_MAX_MESSAGES: '100',
  RECPIPE_RANKING_TRAINER_INTERVAL_MS: '3000',
  RECPIPE_RANKING_TRAINER_MIN_EXAMPLES: '100',
  RECPIPE_RANKING_TRAINER_HORIZON_MS: '600000',
  RECPIPE_RANKING_TRAINER_EPOCHS: '4',
  RECPIPE_PUSH_ENABLED: 'false',
  RECPIPE_LOG_LEVEL: 'info',
});
const keys = redisKeys(cfg.redis.prefix);
const T0 = Date.UTC(2026, 10, 2, 8);

let ch: ClickHouseSink;
let redis: Redis;
let producer: KafkaProducerSink;
let job: Job | undefined;
let seq = 0;

/**
 * Shoppers come back again and again for items of their one family (12 families of 8 items),
 * interleaved: what a list showed a shopper is often what they buy on a later visit.
 */
function wave(users: number, events: number, startTs: number, seed: number): string[] {
  const rnd = mulberry32(seed);
  const out: string[] = [];
  let ts = startTs;
  for (let e = 0; e < events; e++) {
    ts += 1_000 + Math.floor(rnd() * 2_000);
    const u = Math.floor(rnd() * users);
    const fam = u % 12;
    out.push(
      JSON.stringify({
        event_id: `${run}-${seq++}`,
        ts,
        user_id: `s${u}`,
        item_id: `f${fam}-${Math.floor(rnd() * 8)}`,
        type: rnd() < 0.3 ? 'add_to_cart' : 'purchase',
        category: `fam${fam}`,
      }),
    );
  }
  return out;
}

const send = (lines: string[]) =>
  producer.send(
    cfg.kafka.inputTopic,
    lines.map((value) => ({ key: (JSON.parse(value) as { user_id: string }).user_id, value })),
  );

const drained = () => waitForCommittedToEnd(cfg, 120_000);

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  ch = createClickHouseSink(cfg);
  redis = new Redis(cfg.redis.url);
  producer = createKafkaProducerSink(cfg);
  job = startJob(['--http-port', '0'], env);
  await producer.connect();
});

afterAll(async () => {
  if (job && job.child.exitCode === null) job.child.kill('SIGKILL');
  await producer?.disconnect().catch(() => undefined);
  await ch?.close();
  redis?.disconnect();
});

describe('nearline ranker on the real stack', () => {
  it('trains from served lists joined with later purchases and hot-swaps without stopping', async () => {
    // several hours of event time: lists older than the 10 min horizon get final labels
    await send(wave(400, 6000, T0, 1));
    await drained().catch((err: Error) => {
      throw new Error(`${err.message}\njob log:\n${job?.logs().slice(-3000) ?? ''}`);
    });

    const logged = await ch.query<{ n: string; f: string }>(
      `SELECT count() AS n, any(length(features[1])) AS f FROM ${run}.served_features`,
    );
    expect(Number(logged[0]?.n)).toBeGreaterThan(0);
    expect(Number(logged[0]?.f)).toBe(F);

    await waitFor(
      'a nearline model swapped in',
      async () => /"swapped":true[^\n]*"msg":"ranker trained"/.test(job?.logs() ?? ''),
      120_000,
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\njob log:\n${job?.logs().slice(-4000) ?? ''}`);
    });

    // the stream keeps flowing: lists served from now on carry the swapped-in version
    const second = wave(400, 400, T0 + 8 * 3_600_000, 2);
    await send(second);
    await drained();
    const user = (JSON.parse(second[second.length - 1] as string) as { user_id: string }).user_id;
    const version = await redis.hget(keys.recMeta(user), 'model_version');
    expect(version).toMatch(/^ranked@.+\/nearline@/);

    const recs = await runCli(['recs', user, '--json'], env);
    expect(recs.code, recs.stderr).toBe(0);
    const view = lastJson<{ items: { item_id: string; reason: string }[]; model_version: string }>(
      recs.stdout,
    );
    expect(view.model_version).toBe(version);
    expect(view.items.length).toBeGreaterThan(0);
    const bought = await redis.smembers(keys.bought(user));
    for (const it of view.items) {
      expect(bought).not.toContain(it.item_id);
      expect(it.reason.length).toBeGreaterThan(0);
    }

    const running = job as Job;
    running.child.kill('SIGTERM');
    expect(await running.exited, running.logs().slice(-3000)).toBe(0);
  });
});
