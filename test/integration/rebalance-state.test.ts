import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyKey } from '../../push/clock.js';
import type { PushPayload } from '../../push/types.js';
import { stackUp } from '../../stack/stack.js';
import { createClickHouseSink, type ClickHouseSink } from '../../sinks/clickhouse.js';
import { runCli, waitFor } from '../support/cli.js';
import { startInstances, type Instances } from '../support/instances.js';
import { readTopic } from '../support/kafka-read.js';
import { isolatedRun, waitForCommittedToEnd } from '../support/run-env.js';

/**
 * Issue 13 acceptance, rebalance: two instances of one group hold pending carts and feature
 * windows; one leaves (SIGTERM). The survivor is assigned its partitions, restores their push
 * state and feature windows from the changelogs before their next batch: each moved user's
 * abandoned-cart push is sent exactly once, by the new owner, for its deadline, and each moved
 * browser's windows continue (every stored window value equals a recount of all their events,
 * those before the rebalance included).
 */
const {
  name: run,
  env,
  cfg,
} = isolatedRun('rebal', {
  RECPIPE_KAFKA_PARTITIONS: '4',
  RECPIPE_PUSH_POLICY: 'static',
  RECPIPE_PUSH_HOLDOUT_FRACTION: '0',
  RECPIPE_PUSH_RECOMMENDATION_MIN_SCORE: '1000000000',
  RECPIPE_PUSH_BURST_MIN_EVENTS: '1000',
  // Only events move event time: no deadline passes before the rebalance.
  RECPIPE_PIPELINE_IDLE_ADVANCE_MS: '0',
  RECPIPE_LOG_LEVEL: 'info',
});
const dir = mkdtempSync(join(tmpdir(), 'recpipe-rebal-'));
const T = (hhmm: string): number => Date.parse(`2026-11-02T${hhmm}:00Z`);
const USERS = 80;
/** Browsers: views only, three before the rebalance and one after. */
const BROWSERS = 40;
let n = 0;
const produced: { user: string; type: string; ts: number }[] = [];
const ev = (type: string, user: string, item: string, ts: number) => {
  produced.push({ user, type, ts });
  return JSON.stringify({ event_id: `${run}-${n++}`, ts, user_id: user, item_id: item, type });
};
const recount = (user: string, type: string | null, start: number, end: number): number =>
  produced.filter(
    (e) => e.user === user && (type === null || e.type === type) && e.ts >= start && e.ts < end,
  ).length;

let ch: ClickHouseSink;
let group: Instances | undefined;

const produce = async (lines: string[]): Promise<void> => {
  const file = join(dir, `in-${n++}.jsonl`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = await runCli(['produce', '--input', file, '--partitions', '4', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
};

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  ch = createClickHouseSink(cfg);
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
});

describe('push state across a rebalance', () => {
  it('moved users’ pending carts fire exactly once on the new owner', async () => {
    // The topic exists before the group forms, so both instances get partitions.
    await produce([ev('view', 'warmup', 'i0', T('09:00'))]);
    const g = (group = startInstances(2, [], env));
    await waitFor(
      'both instances to own input partitions',
      async () => g.assignment(0).length > 0 && g.assignment(1).length > 0,
      120_000,
      250,
    );
    const carts: string[] = [];
    for (let u = 0; u < USERS; u++) {
      carts.push(ev('view', `c${u}`, `i${u % 9}`, T('10:00') + u * 1_000));
      carts.push(ev('add_to_cart', `c${u}`, `i${u % 9}`, T('10:00') + u * 1_000 + 500));
    }
    for (let u = 0; u < BROWSERS; u++)
      for (let k = 0; k < 3; k++)
        carts.push(ev('view', `b${u}`, `i${(u + k) % 9}`, T('10:00') + u * 1_000 + k * 20_000));
    await produce(carts);
    await waitForCommittedToEnd(cfg, 60_000);
    const leaving = g.assignment(1);
    expect(leaving.length).toBeGreaterThan(0);

    process.kill(g.pid(1), 'SIGTERM');
    await waitFor(
      'the survivor to own every partition',
      async () => g.assignment(0).length === 4,
      60_000,
      250,
    );
    // The browsers come back (before any deadline): their windows must go on from the changelog.
    await produce(
      Array.from({ length: BROWSERS }, (_, u) =>
        ev('view', `b${u}`, `i${u % 9}`, T('10:20') + u * 1_000),
      ),
    );
    await waitForCommittedToEnd(cfg, 60_000);
    // Partition idleness (5 s) lets one partition's event move event time past the deadlines.
    await new Promise((r) => setTimeout(r, 6_000));
    await produce([ev('view', 'clock', 'i0', T('12:00'))]);
    await waitForCommittedToEnd(cfg, 60_000);
    const pushes = async (): Promise<PushPayload[]> =>
      (await readTopic(cfg.kafka.brokers, cfg.kafka.pushTopic, 1_500)).map(
        (m) => JSON.parse(m.value) as PushPayload,
      );
    await waitFor('every cart push', async () => (await pushes()).length >= USERS, 60_000, 1_000);
    expect(await g.stop()).toBe(0);

    const sent = await pushes();
    const expected = Array.from({ length: USERS }, (_, u) =>
      idempotencyKey(
        `c${u}`,
        'abandoned_cart',
        `i${u % 9}`,
        T('10:00') + u * 1_000 + 500 + 1_800_000,
      ),
    );
    expect(sent.map((p) => p.idempotency_key).sort()).toEqual(expected.sort());
    // Users of the partitions that moved were among them (the survivor sent their pushes).
    const moved = await ch.query<{ n: string }>(
      `SELECT count(DISTINCT user_id) AS n FROM ${run}.events FINAL
       WHERE type = 'add_to_cart' AND source_partition IN (${leaving.join(',')})`,
    );
    const movedUsers = Number(moved[0]?.n ?? 0);
    console.log(
      `rebalance: ${USERS} carts, ${movedUsers} on partitions ${leaving.join(',')} that moved; ` +
        `${sent.length} pushes, ${new Set(sent.map((p) => p.idempotency_key)).size} distinct`,
    );
    expect(movedUsers).toBeGreaterThan(0);
    expect(g.log(0)).toMatch(/push state restored/);
    expect(g.log(0)).toMatch(/feature windows restored/);

    // The moved browsers' windows, as the survivor stored them after their return.
    const browsers = await ch.query<{ user_id: string }>(
      `SELECT DISTINCT user_id FROM ${run}.events FINAL
       WHERE startsWith(user_id, 'b') AND source_partition IN (${leaving.join(',')})`,
    );
    expect(browsers.length).toBeGreaterThan(0);
    let windows = 0;
    let continued = 0;
    for (const { user_id: user } of browsers) {
      const rows = await ch.query<{ feature: string; start: string; end: string; value: number }>(
        `SELECT feature, toString(window_start_ms) AS start, toString(window_end_ms) AS end, value
         FROM ${run}.features FINAL
         WHERE entity = 'user' AND key = '${user}' AND match(feature, '^(events|view)_(5m|1h|24h)$')`,
      );
      for (const r of rows) {
        const [start, end] = [Number(r.start), Number(r.end)];
        const expected = recount(user, r.feature.startsWith('view') ? 'view' : null, start, end);
        expect({ user, feature: r.feature, start, value: r.value }).toEqual({
          user,
          feature: r.feature,
          start,
          value: expected,
        });
        windows++;
        // A window holding events from both sides of the rebalance: only a restore gets it right.
        const before = recount(user, null, start, Math.min(end, T('10:10')));
        if (before > 0 && expected > before) continued++;
      }
    }
    console.log(
      `rebalance: ${browsers.length} browsers moved; ${windows} stored windows equal a recount, ` +
        `${continued} of them spanning the rebalance`,
    );
    expect(continued).toBeGreaterThan(0);
  });
});
