import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluatePolicy, parsePolicy, type LoggedDecision } from '../../push/ips.js';
import { upliftByTriggerDay, upliftTotal } from '../../push/uplift.js';
import { mulberry32 } from '../../pipeline/sim/world.js';
import { stackUp } from '../../stack/stack.js';
import { createClickHouseSink, type ClickHouseSink } from '../../sinks/clickhouse.js';
import { upliftByTriggerDaySql, upliftTotalSql } from '../../sinks/clickhouse-schema.js';
import type { PushDecision, PushOutcome, StoredEvent } from '../../sinks/types.js';
import { lastJson, runCli } from '../support/cli.js';
import { isolatedRun } from '../support/run-env.js';

/**
 * The analyst's uplift report and the off-policy evaluation read the real ClickHouse (the local
 * 18.16 server): the `push_uplift` / `push_uplift_total` views must give exactly what the
 * TypeScript estimators (push/uplift.ts) give on the same rows, and `recpipe
 * evaluate-policy` must read the logged decisions and outcomes the job writes.
 */
const { name: db, env, cfg } = isolatedRun('upl');
let sink: ClickHouseSink;
let admin: ClickHouseClient;

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 2);
const TRIGGERS = ['abandoned_cart', 'price_drop', 'back_in_stock'] as const;
const r = mulberry32(42);

const decisions: PushDecision[] = [];
const purchases: StoredEvent[] = [];
const outcomes: PushOutcome[] = [];
let n = 0;
for (let u = 0; u < 400; u++) {
  const userId = `user-${u}`;
  const holdout = u % 8 === 0;
  for (let k = 0; k < 1 + Math.floor(r() * 4); k++) {
    const trigger = TRIGGERS[Math.floor(r() * 3)] as (typeof TRIGGERS)[number];
    const ts = T0 + Math.floor(r() * 4 * DAY);
    const key = `k${n++}`;
    const variant = (['A', 'B', 'C'] as const)[Math.floor(r() * 3)] as 'A' | 'B' | 'C';
    const sent = !holdout && r() < 0.8;
    decisions.push({
      userId,
      trigger,
      decision: holdout ? 'suppressed' : sent ? 'sent' : 'suppressed',
      reason: holdout ? 'holdout: would send' : sent ? 'sent: test' : 'cooldown: test',
      ts,
      items: ['i1'],
      idempotencyKey: key,
      pushId: key,
      channel: 'push',
      variant,
      propensity: 0.8 / 3,
      variantPropensity: 1 / 3,
      scheduledFor: ts,
      holdout,
      pOpen: 0.1,
      uplift: 0.01,
      locale: 'en',
    });
    // Treated pushes are opened and bought from now and then, variant B more often.
    const opened = sent && r() < (variant === 'B' ? 0.3 : 0.1);
    if (opened)
      outcomes.push({
        pushId: key,
        userId,
        kind: 'open',
        ts: ts + 60_000,
        eventId: `o${n}`,
        itemId: 'i1',
        trigger,
        channel: 'push',
        variant,
        holdout: false,
        itemMatch: false,
        pushTs: ts,
      });
    const buys = r() < (opened ? 0.5 : 0.08);
    if (buys) {
      const pts = ts + Math.floor(r() * 2 * DAY);
      purchases.push({
        event: { eventId: `p${n}`, ts: pts, userId, itemId: 'i1', type: 'purchase' },
        topic: 'clickstream',
        partition: 0,
        offset: n,
      });
      if (opened)
        outcomes.push({
          pushId: key,
          userId,
          kind: 'purchase',
          ts: pts,
          eventId: `p${n}`,
          itemId: 'i1',
          trigger,
          channel: 'push',
          variant,
          holdout: false,
          itemMatch: true,
          pushTs: ts,
        });
    }
  }
}

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  sink = createClickHouseSink(cfg);
  admin = createClient({
    url: cfg.clickhouse.url,
    username: cfg.clickhouse.username,
    password: cfg.clickhouse.password,
  });
  await sink.migrate();
  // A second run of every migration is a no-op (18.16 has no ADD COLUMN IF NOT EXISTS).
  await sink.migrate();
  // Written twice, as a replay would: FINAL keeps one copy of each row.
  for (let i = 0; i < 2; i++) {
    await sink.insertPushDecisions(decisions);
    await sink.insertEvents(purchases);
    await sink.insertPushOutcomes(outcomes);
  }
});

afterAll(async () => {
  await admin?.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => undefined);
  await admin?.close();
  await sink?.close();
});

const facts = () => ({
  d: decisions.map((x) => ({ userId: x.userId, trigger: x.trigger, ts: x.ts, holdout: x.holdout })),
  p: purchases.map((x) => ({ userId: x.event.userId, ts: x.event.ts })),
});

describe('uplift report on ClickHouse', () => {
  it('push_uplift (per trigger and day) equals the TypeScript estimator on the same rows', async () => {
    const rows = await sink.query<Record<string, string | number>>(
      `SELECT trigger, toString(day) AS day, treated_users, treated_conversions, holdout_users,
              holdout_conversions, uplift, ci_low, ci_high FROM ${db}.push_uplift`,
    );
    const { d, p } = facts();
    const want = upliftByTriggerDay(d, p);
    expect(rows.length).toBe(want.length);
    expect(rows.length).toBeGreaterThan(6);
    for (const [i, w] of want.entries()) {
      const got = rows[i] as Record<string, string | number>;
      expect([got.trigger, got.day]).toEqual([w.trigger, w.day]);
      expect(Number(got.treated_users)).toBe(w.treatedUsers);
      expect(Number(got.treated_conversions)).toBe(w.treatedConversions);
      expect(Number(got.holdout_users)).toBe(w.holdoutUsers);
      expect(Number(got.holdout_conversions)).toBe(w.holdoutConversions);
      if (Number.isFinite(w.uplift)) {
        expect(Number(got.uplift)).toBeCloseTo(w.uplift, 9);
        expect(Number(got.ci_low)).toBeCloseTo(w.ciLow, 9);
        expect(Number(got.ci_high)).toBeCloseTo(w.ciHigh, 9);
      }
    }
    // The query in the docs is the view's own text.
    const direct = await sink.query<{ n: string }>(
      `SELECT count() AS n FROM (${upliftByTriggerDaySql(db)})`,
    );
    expect(Number(direct[0]?.n)).toBe(want.length);
  });

  it('push_uplift_total (the whole period, exposure-adjusted) equals the TypeScript estimator', async () => {
    const [row] = await sink.query<Record<string, string | number>>(
      `SELECT * FROM (${upliftTotalSql(db)})`,
    );
    const { d, p } = facts();
    const want = upliftTotal(d, p);
    expect(Number(row?.treated_users)).toBe(want.treatedUsers);
    expect(Number(row?.holdout_users)).toBe(want.holdoutUsers);
    expect(Number(row?.treated_mean)).toBeCloseTo(want.treatedMean, 9);
    expect(Number(row?.uplift_per_user)).toBeCloseTo(want.upliftPerUser, 9);
    expect(Number(row?.ci_low)).toBeCloseTo(want.ciLow, 9);
    expect(Number(row?.ci_high)).toBeCloseTo(want.ciHigh, 9);
    const [view] = await sink.query<{ u: number }>(
      `SELECT uplift_per_user AS u FROM ${db}.push_uplift_total`,
    );
    expect(Number(view?.u)).toBeCloseTo(want.upliftPerUser, 9);
  });

  it('evaluate-policy reads the logged pushes and outcomes and estimates like the library', async () => {
    const res = await runCli(
      ['evaluate-policy', '--policy', 'logged', '--policy', 'variant=B', '--json'],
      env,
    );
    expect(res.code, res.stderr).toBe(0);
    const out = lastJson<{
      logged: number;
      results: { policy: string; openIps: { value: number } }[];
    }>(res.stdout);
    const sent = decisions.filter((x) => x.decision === 'sent');
    expect(out.logged).toBe(sent.length);
    const opened = new Set(outcomes.filter((o) => o.kind === 'open').map((o) => o.pushId));
    const bought = new Set(outcomes.filter((o) => o.kind === 'purchase').map((o) => o.pushId));
    const rows: LoggedDecision[] = sent.map((x) => ({
      trigger: x.trigger,
      locale: x.locale,
      channel: x.channel,
      variant: x.variant,
      propensity: x.propensity,
      variantPropensity: x.variantPropensity,
      opened: opened.has(x.pushId) ? 1 : 0,
      converted: bought.has(x.pushId) ? 1 : 0,
    }));
    for (const spec of ['logged', 'variant=B']) {
      const want = evaluatePolicy(rows, parsePolicy(spec));
      const got = out.results.find((x) => x.policy === spec);
      expect(got?.openIps.value).toBeCloseTo(want.openIps.value, 12);
    }
    // Variant B was opened three times as often: the estimate for "always B" says so.
    const b = out.results.find((x) => x.policy === 'variant=B')?.openIps.value ?? 0;
    const logged = out.results.find((x) => x.policy === 'logged')?.openIps.value ?? 1;
    expect(b).toBeGreaterThan(1.5 * logged);

    // The same from a file (what `simulate --log` writes).
    const dir = mkdtempSync(join(tmpdir(), 'recpipe-ips-'));
    const file = join(dir, 'log.jsonl');
    writeFileSync(
      file,
      `${rows.map((x) => JSON.stringify({ ...x, variant_propensity: x.variantPropensity })).join('\n')}\nnot json\n`,
    );
    const fromFile = await runCli(
      ['evaluate-policy', '--input', file, '--policy', 'variant=B', '--json'],
      env,
    );
    const f = lastJson<{
      logged: number;
      skipped: number;
      results: { openIps: { value: number } }[];
    }>(fromFile.stdout);
    expect([f.logged, f.skipped]).toEqual([rows.length, 1]);
    expect(f.results[0]?.openIps.value).toBeCloseTo(b, 12);
  });
});
