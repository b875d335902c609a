import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyKey } from '../../push/clock.js';
import type { PushPayload } from '../../push/types.js';
import { stackUp } from '../../stack/stack.js';
import { createClickHouseSink, type ClickHouseSink } from '../../sinks/clickhouse.js';
import { runCli, startJob, waitFor, type Job } from '../support/cli.js';
import { readTopic } from '../support/kafka-read.js';
import { isolatedRun, waitForCommittedToEnd } from '../support/run-env.js';

/**
 * Issue 13 item 3: push state survives kill -9. A shopper adds to cart at 10:00 (event time) and
 * the job is killed before the 10:30 deadline; the restarted job restores the pending cart from
 * the changelog (committed with the offsets) and sends the abandoned-cart push exactly once,
 * for 10:30, when idleness moves event time on. A second kill after the send changes nothing.
 */
const {
  name: run,
  env,
  cfg,
} = isolatedRun('durable', {
  RECPIPE_PUSH_POLICY: 'static',
  RECPIPE_PUSH_HOLDOUT_FRACTION: '0',
  RECPIPE_PUSH_RECOMMENDATION_MIN_SCORE: '1000000000',
  RECPIPE_PUSH_BURST_MIN_EVENTS: '1000',
  RECPIPE_LOG_LEVEL: 'info',
});
const dir = mkdtempSync(join(tmpdir(), 'recpipe-durable-'));
const T = (hhmmss: string): number => Date.parse(`2026-11-02T${hhmmss}Z`);
let n = 0;
const ev = (type: string, user: string, itemId: string, ts: number) =>
  JSON.stringify({ event_id: `${run}-${n++}`, ts, user_id: user, item_id: itemId, type });

let ch: ClickHouseSink;
let job: Job | undefined;

const produce = async (lines: string[]): Promise<void> => {
  const file = join(dir, `in-${n++}.jsonl`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = await runCli(['produce', '--input', file, '--partitions', '3', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
};

const cartPushes = async (): Promise<PushPayload[]> =>
  (await readTopic(cfg.kafka.brokers, cfg.kafka.pushTopic, 1_500))
    .map((m) => JSON.parse(m.value) as PushPayload)
    .filter((p) => p.user_id === 'carter');

const kill = async (j: Job): Promise<void> => {
  j.child.kill('SIGKILL');
  await j.exited;
};

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  ch = createClickHouseSink(cfg);
});

afterAll(async () => {
  if (job && job.child.exitCode === null) job.child.kill('SIGKILL');
  await ch?.close();
});

describe('push state across kill -9', () => {
  it('a cart added before the kill is pushed once after the restart, at its deadline', async () => {
    // Without idle advance the deadline cannot pass before the kill.
    job = startJob(['--http-port', '0'], { ...env, RECPIPE_PIPELINE_IDLE_ADVANCE_MS: '0' });
    await produce([
      ev('add_to_cart', 'carter', 'vase', T('10:00:00')),
      ...['a', 'b', 'c', 'd', 'e', 'f'].map((u, i) => ev('view', u, 'mug', T(`10:0${i + 1}:00`))),
    ]);
    await waitForCommittedToEnd(cfg, 60_000);
    await kill(job);
    expect(await cartPushes()).toEqual([]);

    // Restarted with idle advance (the default): quiet for 5 s, event time follows the clock.
    job = startJob(['--http-port', '0'], env);
    await waitFor(
      'the abandoned-cart push',
      async () => ((await cartPushes()).length > 0 ? true : undefined),
      60_000,
      1_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${job?.logs().slice(-3000) ?? ''}`);
    });
    const restored = job.logs();
    expect(restored).toMatch(/push state restored/);
    // Sent and committed: a second kill and restart must not send it again.
    await kill(job);
    job = startJob(['--http-port', '0'], env);
    await waitFor('the restore', async () => /push state restored/.test(job?.logs() ?? ''));
    await new Promise((r) => setTimeout(r, 8_000));
    job.child.kill('SIGTERM');
    expect(await job.exited, job.logs().slice(-3000)).toBe(0);

    const pushes = await cartPushes();
    expect(pushes.map((p) => [p.trigger, p.created_at])).toEqual([
      ['abandoned_cart', '2026-11-02T10:30:00.000Z'],
    ]);
    const key = idempotencyKey('carter', 'abandoned_cart', 'vase', T('10:30:00'));
    expect(pushes[0]?.idempotency_key).toBe(key);
    const rows = await ch.query<{ decision: string; ts_ms: string }>(
      `SELECT decision, toString(ts_ms) AS ts_ms FROM ${run}.push_notifications FINAL
       WHERE user_id = 'carter'`,
    );
    expect(rows).toEqual([{ decision: 'sent', ts_ms: String(T('10:30:00')) }]);
  });
});
