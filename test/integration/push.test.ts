import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { idempotencyKey } from '../../push/clock.js';
import type { PushDecision, PushMessage, PushPayload } from '../../push/types.js';
import { stackUp } from '../../stack/stack.js';
import { createClickHouseSink, type ClickHouseSink } from '../../sinks/clickhouse.js';
import { createRedisPushClaims } from '../../sinks/redis-push-policy.js';
import { runCli, startJob, type Job } from '../support/cli.js';
import { readTopic } from '../support/kafka-read.js';
import { isolatedRun, waitForCommittedToEnd } from '../support/run-env.js';

/**
 * Issue 6 acceptance on the real stack: a scripted shop day through `recpipe run` (a cart left
 * alone, a cart bought, price drops from the items topic to viewers, one of them asleep in
 * Auckland, and a shopper who hits the frequency cap), ending with exactly the expected messages
 * on the push topic (read_committed) and decision rows in ClickHouse.
 */
const {
  name: run,
  env,
  cfg,
} = isolatedRun('push', {
  // The fixed rules (the learned policy has its own test: push-learned.test.ts), nobody held out.
  RECPIPE_PUSH_POLICY: 'static',
  RECPIPE_PUSH_HOLDOUT_FRACTION: '0',
  // Only the triggers this scenario scripts: no recommendation or burst pushes.
  RECPIPE_PUSH_RECOMMENDATION_MIN_SCORE: '1000000000',
  RECPIPE_PUSH_BURST_MIN_EVENTS: '1000',
  // Four drops for one shopper in a row: the cap, not the cooldown, must be what stops the 4th.
  RECPIPE_PUSH_COOLDOWN_MS_PRICE_DROP: '0',
});
const dir = mkdtempSync(join(tmpdir(), 'recpipe-push-'));

const T = (hhmmss: string): number => Date.parse(`2026-11-02T${hhmmss}Z`);
let n = 0;
const ev = (type: string, user: string, itemId: string, ts: number, props?: object) =>
  JSON.stringify({
    event_id: `${run}-${n++}`,
    ts,
    user_id: user,
    item_id: itemId,
    type,
    ...(props && { props }),
  });
const cat = (itemId: string, ts: number, price: number, title: string) =>
  JSON.stringify({ item_id: itemId, ts, price, title, in_stock: true });

let ch: ClickHouseSink;
let job: Job | undefined;

const produce = async (topic: string, lines: string[], partitions: number): Promise<void> => {
  const file = join(dir, `${topic}-${n++}.jsonl`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = await runCli(
    ['produce', '--input', file, '--topic', topic, '--partitions', String(partitions), '--json'],
    env,
  );
  expect(r.code, r.stderr).toBe(0);
};

/** Waits until the job committed everything in `topic`, i.e. processed and acknowledged it. */
const drained = (topic: string): Promise<void> =>
  waitForCommittedToEnd(cfg, 120_000, topic).catch((err: Error) => {
    throw new Error(`${err.message}\njob log:\n${job?.logs().slice(-3000) ?? ''}`);
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  ch = createClickHouseSink(cfg);
});

afterAll(async () => {
  if (job && job.child.exitCode === null) job.child.kill('SIGKILL');
  await ch?.close();
});

describe('push decisioning on the real stack', () => {
  it('sends exactly the scripted pushes, transactionally, and records every decision', async () => {
    // One items partition keeps catalog updates in order.
    await produce(
      cfg.kafka.itemsTopic,
      [
        cat('mug', T('09:00:00'), 20, 'Red mug'),
        ...['a', 'b', 'c', 'd'].map((x) => cat(`lamp-${x}`, T('09:00:00'), 40, `Lamp ${x}`)),
        cat('vase', T('09:00:00'), 15, 'Blue vase'),
      ],
      1,
    );
    job = startJob(['--http-port', '0'], env);
    await drained(cfg.kafka.itemsTopic);

    // 10:00-10:10 UTC: carts and views.
    await produce(
      cfg.kafka.inputTopic,
      [
        ev('add_to_cart', 'carter', 'vase', T('10:00:00')),
        ev('add_to_cart', 'buyer', 'vase', T('10:00:00')),
        ev('purchase', 'buyer', 'vase', T('10:10:00')),
        ev('view', 'viewer', 'mug', T('10:01:00')),
        ev('view', 'kiwi', 'mug', T('10:02:00'), { tz: 'Pacific/Auckland' }),
        ...['a', 'b', 'c', 'd'].map((x, i) =>
          ev('view', 'capped', `lamp-${x}`, T(`10:0${3 + i}:00`)),
        ),
      ],
      3,
    );
    await drained(cfg.kafka.inputTopic);

    // 10:20 UTC: price drops (23:20 in Auckland: quiet hours there).
    await produce(
      cfg.kafka.itemsTopic,
      [
        cat('mug', T('10:20:00'), 15, 'Red mug'),
        ...['a', 'b', 'c', 'd'].map((x, i) =>
          cat(`lamp-${x}`, T(`10:20:0${i + 1}`), 30, `Lamp ${x}`),
        ),
      ],
      1,
    );
    await drained(cfg.kafka.itemsTopic);

    // Event time moves on to 20:00 UTC: the cart's 10:30 deadline and Auckland's 08:00 (19:00
    // UTC) pass. Idle partitions stop holding the watermark back after 5 s.
    await sleep(6_000);
    await produce(cfg.kafka.inputTopic, [ev('view', 'clock', 'mug', T('20:00:00'))], 3);
    await drained(cfg.kafka.inputTopic);

    const running = job;
    running.child.kill('SIGTERM');
    expect(await running.exited, running.logs().slice(-3000)).toBe(0);

    const mugDrop = T('10:20:00');
    const lamp = (x: string, i: number) => ({ x, ts: T(`10:20:0${i + 1}`) });
    const expected = [
      { user: 'carter', trigger: 'abandoned_cart', item: 'vase', key: T('10:30:00') },
      { user: 'viewer', trigger: 'price_drop', item: 'mug', key: mugDrop },
      { user: 'kiwi', trigger: 'price_drop', item: 'mug', key: mugDrop },
      ...['a', 'b', 'c'].map((x, i) => ({
        user: 'capped',
        trigger: 'price_drop',
        item: `lamp-${x}`,
        key: lamp(x, i).ts,
      })),
    ].map((e) => ({ ...e, idem: idempotencyKey(e.user, e.trigger, e.item, e.key) }));

    const messages = await readTopic(cfg.kafka.brokers, cfg.kafka.pushTopic);
    const payloads = messages.map((m) => JSON.parse(m.value) as PushPayload);
    expect(payloads.map((p) => p.idempotency_key).sort()).toEqual(
      expected.map((e) => e.idem).sort(),
    );
    for (const m of messages) {
      const p = JSON.parse(m.value) as PushPayload;
      expect(m.key).toBe(p.user_id);
      expect(m.headers).toEqual({
        trigger: p.trigger,
        'idempotency-key': p.idempotency_key,
        channel: p.channel,
        variant: p.variant,
      });
      expect(p.deep_link).toBe(`app://item/${p.items[0]?.item_id}`);
    }
    const kiwi = payloads.find((p) => p.user_id === 'kiwi');
    expect(kiwi).toMatchObject({
      trigger: 'price_drop',
      items: [{ item_id: 'mug', title: 'Red mug', price: 15 }],
      // Deferred from 23:20 to 08:00 in Auckland (NZDT, UTC+13).
      created_at: '2026-11-02T19:00:00.000Z',
    });
    expect(payloads.find((p) => p.user_id === 'carter')).toMatchObject({
      trigger: 'abandoned_cart',
      created_at: '2026-11-02T10:30:00.000Z',
      expires_at: '2026-11-03T10:30:00.000Z',
    });

    const rows = await ch.query<{
      user_id: string;
      trigger: string;
      decision: string;
      reason: string;
      ts_ms: string;
      idempotency_key: string;
    }>(
      `SELECT user_id, trigger, decision, reason, toString(ts_ms) AS ts_ms, idempotency_key
       FROM ${run}.push_notifications FINAL ORDER BY user_id, ts_ms, decision`,
    );
    const summary = rows.map(
      (r) =>
        `${r.user_id} ${r.trigger} ${r.decision} ${r.reason.split(':')[0]} ${new Date(Number(r.ts_ms)).toISOString().slice(11, 19)}`,
    );
    expect(summary).toEqual([
      'capped price_drop sent sent 10:20:01',
      'capped price_drop sent sent 10:20:02',
      'capped price_drop sent sent 10:20:03',
      'capped price_drop suppressed frequency_cap 10:20:04',
      'carter abandoned_cart sent sent 10:30:00',
      'kiwi price_drop deferred quiet_hours 10:20:00',
      'kiwi price_drop sent sent 19:00:00',
      'viewer price_drop sent sent 10:20:00',
    ]);
    const sentKeys = rows.filter((r) => r.decision === 'sent').map((r) => r.idempotency_key);
    expect(sentKeys.sort()).toEqual(expected.map((e) => e.idem).sort());

    // Nothing in the scenario was malformed.
    const dlq = await readTopic(cfg.kafka.brokers, cfg.kafka.dlqTopic, 1000);
    expect(dlq).toEqual([]);
  });

  it('claims across instances: shared cap, replayed keys succeed, recommended items only once', async () => {
    const claimCfg = loadConfig(undefined, {
      ...process.env,
      ...env,
      RECPIPE_REDIS_PREFIX: `${run}-claims:`,
      RECPIPE_PUSH_FREQUENCY_CAP: '2',
    });
    const a = createRedisPushClaims(claimCfg);
    const b = createRedisPushClaims(claimCfg);
    const t0 = T('12:00:00');
    const d = (
      user: string,
      trigger: PushDecision['trigger'],
      item: string,
      ts: number,
    ): PushDecision => ({
      userId: user,
      trigger,
      decision: 'sent',
      reason: 'fired: test',
      ts,
      items: [item],
      idempotencyKey: idempotencyKey(user, trigger, item, ts),
      payload: '{}',
      pushId: idempotencyKey(user, trigger, item, ts),
      channel: 'push',
      variant: 'A',
      propensity: 1,
      variantPropensity: 1,
      scheduledFor: ts,
      holdout: false,
      pOpen: 0.1,
      uplift: 0.01,
      locale: 'en',
    });
    const msg = (x: PushDecision): PushMessage => ({
      idempotencyKey: x.idempotencyKey,
      key: x.userId,
      value: '{}',
      headers: {},
    });
    try {
      const first = d('u1', 'price_drop', 'i1', t0);
      const second = d('u1', 'back_in_stock', 'i2', t0 + 60_000);
      const r1 = await a.claim([first, second], [first, second].map(msg));
      expect(r1.decisions.map((x) => x.decision)).toEqual(['sent', 'sent']);
      expect(r1.messages.length).toBe(2);

      // Instance b, same user: the cap of 2 is shared, and a cart push is suppressed.
      const third = d('u1', 'abandoned_cart', 'i3', t0 + 120_000);
      // Instance b replays the batch instance a already claimed: same keys, still sent.
      const r2 = await b.claim([first, third], [first, third].map(msg));
      expect(r2.decisions.map((x) => `${x.decision} ${x.reason.split(':')[0]}`)).toEqual([
        'sent fired',
        'suppressed frequency_cap',
      ]);
      expect(r2.decisions[1]?.payload).toBeUndefined();
      expect(r2.messages.map((m) => m.idempotencyKey)).toEqual([first.idempotencyKey]);

      // Cooldown across instances (another user, so the cap does not interfere).
      const cd1 = d('u2', 'back_in_stock', 'i1', t0);
      const cd2 = d('u2', 'back_in_stock', 'i2', t0 + 60 * 60_000);
      await a.claim([cd1], [msg(cd1)]);
      const r3 = await b.claim([cd2], [msg(cd2)]);
      expect(r3.decisions[0]?.reason.split(':')[0]).toBe('cooldown');

      // A recommended item goes to a user once, whoever claims it.
      const rec1 = d('u3', 'new_recommendation', 'i9', t0);
      const rec2 = d('u3', 'new_recommendation', 'i9', t0 + 2 * 86_400_000);
      await a.claim([rec1], [msg(rec1)]);
      const r4 = await b.claim([rec2], [msg(rec2)]);
      expect(r4.decisions[0]?.reason.split(':')[0]).toBe('already_pushed');

      // Deferred and suppressed decisions pass through unclaimed.
      const deferred = { ...d('u4', 'price_drop', 'i1', t0), decision: 'deferred' as const };
      const r5 = await b.claim([deferred], []);
      expect(r5.decisions).toEqual([deferred]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
