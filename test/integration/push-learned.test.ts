import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inHoldout } from '../../push/holdout.js';
import type { PushPayload } from '../../push/types.js';
import { stackUp } from '../../stack/stack.js';
import { createClickHouseSink, type ClickHouseSink } from '../../sinks/clickhouse.js';
import { runCli, startJob, type Job } from '../support/cli.js';
import { readTopic } from '../support/kafka-read.js';
import { isolatedRun, waitForCommittedToEnd } from '../support/run-env.js';

/**
 * Issue 15 acceptance on the real stack, with the default (learned) policy and holdout: a week
 * of evening-only shoppers in Berlin, a shopper who opted out of push for e-mail, one who opted
 * out of everything, and a held-out shopper all see a price drop at 09:00 Berlin time. The
 * evening shoppers' pushes are scheduled into their evening, the e-mail shopper gets e-mail, the
 * others get only suppressed rows, and every row carries channel, variant, propensity and
 * scheduled_for. An open and a purchase of a sent push are attributed in `push_outcomes`.
 */
const {
  name: run,
  env,
  cfg,
} = isolatedRun('pushl', {
  // Only the price drop this scenario scripts.
  RECPIPE_PUSH_RECOMMENDATION_MIN_SCORE: '1000000000',
  RECPIPE_PUSH_BURST_MIN_EVENTS: '1000',
  // The scenario's event time is weeks in the past and it pauses on the wall clock: idle advance
  // would move event time to now and close every push's attribution window before its open.
  RECPIPE_PIPELINE_IDLE_ADVANCE_MS: '0',
});
const dir = mkdtempSync(join(tmpdir(), 'recpipe-pushl-'));
const day = (d: number, hhmm: string): number =>
  Date.parse(`2026-11-${String(9 + d).padStart(2, '0')}T${hhmm}:00Z`);
const EVENING = ['eve-1', 'eve-2', 'eve-3'];
const HELD = Array.from({ length: 2000 }, (_, i) => `held-${i}`).find((u) =>
  inHoldout(u, cfg.push.holdout.fraction, cfg.push.holdout.salt),
) as string;

let n = 0;
const ev = (type: string, user: string, itemId: string, ts: number, props?: object): string =>
  JSON.stringify({
    event_id: `${run}-${n++}`,
    ts,
    user_id: user,
    item_id: itemId,
    type,
    ...(props && { props }),
  });
const pref = (user: string, channels: Record<string, boolean>, tz = 'UTC'): string =>
  JSON.stringify({ user_id: user, ts: day(0, '00:00'), channels, tz });

let ch: ClickHouseSink;
let job: Job | undefined;

const produce = async (topic: string, lines: string[], partitions = 3): Promise<void> => {
  const file = join(dir, `${topic}-${n++}.jsonl`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = await runCli(
    ['produce', '--input', file, '--topic', topic, '--partitions', String(partitions), '--json'],
    env,
  );
  expect(r.code, r.stderr).toBe(0);
};

const drained = (topic: string): Promise<void> =>
  waitForCommittedToEnd(cfg, 120_000, topic).catch((err: Error) => {
    throw new Error(`${err.message}\njob log:\n${job?.logs().slice(-3000) ?? ''}`);
  });

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  ch = createClickHouseSink(cfg);
});

afterAll(async () => {
  if (job && job.child.exitCode === null) job.child.kill('SIGKILL');
  await ch?.close();
});

interface Row {
  user_id: string;
  decision: string;
  reason: string;
  channel: string;
  variant: string;
  propensity: number;
  scheduled_for: string;
  holdout: number;
  ts_ms: string;
  push_id: string;
}

describe('learned push policy on the real stack', () => {
  it('schedules evening shoppers in their evening, honours consent, holds out, logs every choice', async () => {
    expect(HELD).toBeDefined();
    await produce(
      cfg.kafka.itemsTopic,
      [JSON.stringify({ item_id: 'lamp', ts: day(0, '00:00'), price: 40, title: 'Lamp' })],
      1,
    );
    await produce(cfg.kafka.preferencesTopic, [
      pref('mail-1', { push: false, email: true, sms: false, in_app: false }),
      pref('none-1', { push: false, email: false, sms: false, in_app: false }),
    ]);
    job = startJob(['--http-port', '0'], env);
    await drained(cfg.kafka.preferencesTopic);
    await drained(cfg.kafka.itemsTopic);

    // Five evenings of browsing, 19:10–20:20 in Berlin (CET, UTC+1); everyone views the lamp.
    const history: string[] = [];
    for (let d = 0; d < 5; d++)
      for (const u of EVENING)
        for (const t of ['18:10', '18:40', '19:20'])
          history.push(
            ev('view', u, d === 4 ? 'lamp' : `thing-${d}`, day(d, t), { tz: 'Europe/Berlin' }),
          );
    for (const u of ['mail-1', 'none-1', HELD])
      history.push(ev('view', u, 'lamp', day(4, '12:00')));
    await produce(cfg.kafka.inputTopic, history);
    await drained(cfg.kafka.inputTopic);

    // The drop lands at 09:00 Berlin on day 5.
    await produce(
      cfg.kafka.itemsTopic,
      [JSON.stringify({ item_id: 'lamp', ts: day(5, '08:00'), price: 30 })],
      1,
    );
    await drained(cfg.kafka.itemsTopic);
    // Event time moves to the next noon: every evening delivery is due. Idle partitions stop
    // holding the watermark back after 5 s.
    await new Promise((r) => setTimeout(r, 6_000));
    await produce(cfg.kafka.inputTopic, [ev('view', 'clock', 'x', day(6, '12:00'))]);
    await drained(cfg.kafka.inputTopic);

    const messages = await readTopic(cfg.kafka.brokers, cfg.kafka.pushTopic);
    const payloads = messages.map((m) => JSON.parse(m.value) as PushPayload);
    // An open and a purchase of the first evening push, after its delivery.
    const opened = payloads.find((p) => p.user_id === 'eve-1');
    expect(opened).toBeDefined();
    const at = (opened?.scheduled_for ?? 0) + 10 * 60_000;
    await produce(cfg.kafka.inputTopic, [
      ev('push_open', 'eve-1', 'lamp', at, { push_id: opened?.push_id, channel: opened?.channel }),
      ev('purchase', 'eve-1', 'lamp', at + 5 * 60_000),
    ]);
    await drained(cfg.kafka.inputTopic);
    const running = job;
    running.child.kill('SIGTERM');
    expect(await running.exited, running.logs().slice(-3000)).toBe(0);

    const rows = await ch.query<Row>(
      `SELECT user_id, toString(decision) AS decision, reason, channel, variant, propensity,
              toString(scheduled_for) AS scheduled_for, holdout, toString(ts_ms) AS ts_ms, push_id
       FROM ${run}.push_notifications FINAL WHERE user_id != 'clock' ORDER BY user_id, ts_ms, decision`,
    );
    const of = (u: string): Row[] => rows.filter((r) => r.user_id === u);
    const berlinHour = (ms: number): number => (new Date(ms).getUTCHours() + 1) % 24;

    // Evening shoppers: scheduled at the drop, delivered in their evening, by push or in-app.
    for (const u of EVENING) {
      const [deferred, sent] = of(u);
      expect(deferred?.decision, JSON.stringify(of(u))).toBe('deferred');
      expect(deferred?.reason).toMatch(
        /^scheduled: (push|in_app) at (1[7-9]|2[01]):\d\d local \(best hour\), variant [ABC] \((Thompson|explore)\), uplift \+\d+\.\d pp$/,
      );
      expect(Number(deferred?.ts_ms)).toBe(day(5, '08:00'));
      const when = Number(deferred?.scheduled_for);
      expect(berlinHour(when)).toBeGreaterThanOrEqual(17);
      expect(berlinHour(when)).toBeLessThan(22);
      expect(sent?.decision).toBe('sent');
      expect(sent?.reason.startsWith(`sent: ${deferred?.reason.slice('scheduled: '.length)}`)).toBe(
        true,
      );
      expect([Number(sent?.ts_ms), Number(sent?.scheduled_for)]).toEqual([when, when]);
      const p = payloads.find((x) => x.user_id === u);
      expect(p).toMatchObject({
        push_id: sent?.push_id,
        scheduled_for: when,
        channel: sent?.channel,
        holdout: false,
      });
    }
    // Opted out of push: e-mail. Opted out of everything: nothing, with the reason.
    expect(of('mail-1').map((r) => r.channel)).toEqual(of('mail-1').map(() => 'email'));
    expect(of('mail-1').some((r) => r.decision === 'sent')).toBe(true);
    expect(payloads.filter((p) => p.user_id === 'mail-1').map((p) => p.channel)).toEqual(['email']);
    expect(
      of('none-1').map((r) => `${r.decision} ${r.reason.split(':')[0]} '${r.channel}'`),
    ).toEqual(["suppressed no_channel ''"]);
    // Held out: suppressed rows with the reason code holdout, never sent, no message.
    expect(of(HELD).length).toBeGreaterThan(0);
    for (const r of of(HELD)) {
      expect([r.decision, r.reason.split(':')[0], r.holdout]).toEqual(['suppressed', 'holdout', 1]);
    }
    expect(payloads.some((p) => p.user_id === HELD || p.user_id === 'none-1')).toBe(false);
    // Every row says which channel, variant, propensity and delivery time it chose.
    for (const r of rows) {
      if (r.reason.startsWith('no_channel')) expect(r.channel).toBe('');
      else expect(['push', 'email', 'in_app', 'sms']).toContain(r.channel);
      expect(['A', 'B', 'C']).toContain(r.variant);
      expect(r.propensity).toBeGreaterThan(0);
      expect(r.propensity).toBeLessThanOrEqual(1);
      expect(Number(r.scheduled_for)).toBeGreaterThanOrEqual(Number(r.ts_ms));
      expect(r.push_id.length).toBe(32);
    }

    const outcomes = await ch.query<{ kind: string; push_id: string; item_match: number }>(
      `SELECT toString(kind) AS kind, push_id, item_match FROM ${run}.push_outcomes FINAL ORDER BY ts_ms`,
    );
    expect(outcomes).toEqual([
      { kind: 'open', push_id: opened?.push_id, item_match: 0 },
      { kind: 'purchase', push_id: opened?.push_id, item_match: 1 },
    ]);
    const dlq = await readTopic(cfg.kafka.brokers, cfg.kafka.dlqTopic, 1000);
    expect(dlq).toEqual([]);
  });
});
