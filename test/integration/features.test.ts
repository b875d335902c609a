import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackUp } from '../../stack/stack.js';
import { createClickHouseSink, type ClickHouseSink } from '../../sinks/clickhouse.js';
import { runCli, startJob, type Job } from '../support/cli.js';
import { isolatedRun, waitForCommittedToEnd } from '../support/run-env.js';
import { syntheticStream } from '../support/synthetic-stream.js';

/**
 * Issue 3 acceptance: after a run on the real stack, the windowed feature values in ClickHouse
 * `features` and in the Redis `feat:` hashes of sampled users and items equal a brute-force
 * recount of the produced events over the same windows.
 */
const { name: run, env, cfg } = isolatedRun('feat');
// In event-time order, gaps up to 30 s: about 16 hours of shopping, so 5 min, 1 h and the
// first 24 h windows close during the run.
const stream = syntheticStream({
  events: 2000,
  malformed: 0,
  duplicates: 0,
  seed: 11,
  users: 40,
  items: 60,
  displacement: 0,
  maxGapMs: 30_000,
});
interface Ev {
  ts: number;
  user_id: string;
  item_id: string;
  type: string;
}
const events = stream.lines.map((l) => JSON.parse(l) as Ev);

let ch: ClickHouseSink;
let redis: Redis;
let job: Job | undefined;

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  ch = createClickHouseSink(cfg);
  redis = new Redis(cfg.redis.url);
});

afterAll(async () => {
  if (job && job.child.exitCode === null) job.child.kill('SIGKILL');
  await ch?.close();
  redis?.disconnect();
});

const USER_TYPES: Record<string, string | null> = {
  events: null,
  view: 'view',
  click: 'click',
  add_to_cart: 'add_to_cart',
  purchase: 'purchase',
};
const ITEM_TYPES: Record<string, string> = {
  views: 'view',
  clicks: 'click',
  carts: 'add_to_cart',
  purchases: 'purchase',
};

function recount(
  key: 'user_id' | 'item_id',
  id: string,
  type: string | null,
  start: number,
  end: number,
): number {
  let n = 0;
  for (const e of events)
    if (e[key] === id && (type === null || e.type === type) && e.ts >= start && e.ts < end) n++;
  return n;
}

interface Row {
  feature: string;
  start: string;
  end: string;
  value: number;
}

describe('windowed features on the real stack', () => {
  it('stores values in ClickHouse and Redis that equal a recount of the produced events', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recpipe-feat-'));
    const input = join(dir, 'events.jsonl');
    writeFileSync(input, `${stream.lines.join('\n')}\n`);

    job = startJob(['--http-port', '0'], env);
    const p = await runCli(
      ['produce', '--input', input, '--partitions', '3', '--rate', '250'],
      env,
    );
    expect(p.code, p.stderr).toBe(0);
    await waitForCommittedToEnd(cfg);
    const running = job;
    running.child.kill('SIGTERM');
    expect(await running.exited, running.logs().slice(-2000)).toBe(0);

    const sample = <T>(xs: T[], n: number): T[] =>
      xs.filter((_, i) => i % Math.ceil(xs.length / n) === 0);
    const users = sample([...new Set(events.map((e) => e.user_id))].sort(), 8);
    const items = sample([...new Set(events.map((e) => e.item_id))].sort(), 8);
    let checked = 0;
    let servedInRedis = 0;

    const check = async (
      entity: 'user' | 'item',
      id: string,
      types: Record<string, string | null>,
    ) => {
      const rows = await ch.query<Row>(
        `SELECT feature, toString(window_start_ms) AS start, toString(window_end_ms) AS end, value FROM ${run}.features FINAL ` +
          `WHERE entity = '${entity}' AND key = '${id}' AND window_end_ms > 0`,
      );
      // Zeros are not stored: every feature of a stored window that has no row must recount to 0.
      const windows = new Map<string, { label: string; start: string; end: string }>();
      const stored = new Set<string>();
      for (const r of rows) {
        const m = /^(.*)_(5m|1h|24h)$/.exec(r.feature);
        if (!m) continue;
        windows.set(`${m[2]}|${r.start}`, { label: m[2] as string, start: r.start, end: r.end });
        stored.add(`${r.feature}|${r.start}`);
      }
      for (const w of windows.values()) {
        for (const [name, type] of Object.entries(types)) {
          if (stored.has(`${name}_${w.label}|${w.start}`)) continue;
          const key = entity === 'user' ? 'user_id' : 'item_id';
          expect({ id, feature: `${name}_${w.label}`, start: w.start, value: 0 }).toEqual({
            id,
            feature: `${name}_${w.label}`,
            start: w.start,
            value: recount(key, id, type, Number(w.start), Number(w.end)),
          });
          checked++;
        }
      }
      for (const r of rows) {
        const m = /^(.*)_(5m|1h|24h)$/.exec(r.feature);
        if (!m || !((m[1] as string) in types)) continue;
        const type = types[m[1] as string] as string | null;
        const expected = recount(
          entity === 'user' ? 'user_id' : 'item_id',
          id,
          type,
          Number(r.start),
          Number(r.end),
        );
        expect({ entity, id, feature: r.feature, start: r.start, value: r.value }).toEqual({
          entity,
          id,
          feature: r.feature,
          start: r.start,
          value: expected,
        });
        checked++;
      }
      // Redis serves the newest window of each label (zeros included), under a key with a TTL,
      // with that window's end, so a reader can tell when the key's silence made it stale.
      const newestWindow = new Map<string, { label: string; start: string; end: string }>();
      for (const w of windows.values()) {
        const prev = newestWindow.get(w.label);
        if (!prev || Number(w.end) > Number(prev.end)) newestWindow.set(w.label, w);
      }
      if (newestWindow.size === 0) return;
      const key = `${cfg.redis.prefix}feat:${entity}:${id}`;
      const hash = await redis.hgetall(key);
      expect(await redis.ttl(key)).toBeGreaterThan(0);
      for (const w of newestWindow.values()) {
        expect(Number(hash[`window_end_${w.label}`])).toBe(Number(w.end));
        for (const name of Object.keys(types)) {
          const feature = `${name}_${w.label}`;
          const row = rows.find((r) => r.feature === feature && r.start === w.start);
          expect({ id, feature, value: Number(hash[feature]) }).toEqual({
            id,
            feature,
            value: row?.value ?? 0,
          });
        }
      }
      servedInRedis++;
    };
    for (const u of users) await check('user', u, USER_TYPES);
    for (const i of items) await check('item', i, ITEM_TYPES);
    expect(checked).toBeGreaterThan(100);
    expect(servedInRedis).toBeGreaterThanOrEqual(10);
  });
});
