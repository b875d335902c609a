/**
 * Push report: how many notifications each trigger would send per user per day, from a replay of
 * the whole graph (triggers, policy, templates; no Redis claim, which only matters across
 * instances). Two inputs: the UCI Online Retail file (purchases only) and a seeded synthetic shop
 * with sessions, carts, categories, user time zones and a catalog with price and stock changes.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/push.js [--uci FILE] [--users 2000] [--days 14]
 *     [--out bench/out]
 *
 * Prints a markdown table per input on stderr; the last stdout line is one JSON object.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { replay, type ReplaySummary } from '../pipeline/runtime/replay.js';
import type { MemorySink } from '../sinks/memory.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Shoppers visit on about a third of days, at a local hour between 07:00 and 23:00, and browse
 * one or two categories per session; some cart, fewer buy (usually what they carted). Items get
 * a catalog price at the start; each day some prices change (half of the changes are drops of
 * 10-40 %) and some items sell out and come back a day or two later.
 */
export function syntheticShop(opts: { users: number; items: number; days: number; seed: number }) {
  const rnd = mulberry32(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'];
  const offsets: Record<string, number> = {
    UTC: 0,
    'Europe/Berlin': 1,
    'America/New_York': -5,
    'Asia/Tokyo': 9,
  };
  const cats = ['home', 'garden', 'toys', 'kitchen', 'books', 'fashion', 'sports', 'beauty'];
  const start = Date.UTC(2026, 10, 2);
  const price: number[] = Array.from(
    { length: opts.items },
    () => 5 + Math.round(rnd() * 9500) / 100,
  );
  const itemsIn = (c: number): number[] =>
    Array.from({ length: opts.items }, (_, i) => i).filter((i) => i % cats.length === c);
  const byCat = cats.map((_, c) => itemsIn(c));
  const catalog: { ts: number; line: string }[] = [];
  const itemLine = (i: number, ts: number, extra: object) =>
    JSON.stringify({ item_id: `item-${i}`, ts, category: cats[i % cats.length], ...extra });
  for (let i = 0; i < opts.items; i++)
    catalog.push({
      ts: start - HOUR,
      line: itemLine(i, start - HOUR, {
        title: `${cats[i % cats.length]} thing ${i}`,
        price: price[i],
        in_stock: true,
      }),
    });
  for (let d = 0; d < opts.days; d++) {
    for (let i = 0; i < opts.items; i++) {
      const r = rnd();
      const ts = start + d * DAY + Math.floor(rnd() * DAY);
      if (r < 0.04) {
        const drop = rnd() < 0.5;
        price[i] =
          Math.round(price[i]! * (drop ? 0.6 + rnd() * 0.3 : 1.05 + rnd() * 0.2) * 100) / 100;
        catalog.push({ ts, line: itemLine(i, ts, { price: price[i] }) });
      } else if (r < 0.05) {
        catalog.push({ ts, line: itemLine(i, ts, { in_stock: false }) });
        const back = ts + DAY + Math.floor(rnd() * DAY);
        catalog.push({ ts: back, line: itemLine(i, back, { in_stock: true }) });
      }
    }
  }
  const clicks: { ts: number; line: string }[] = [];
  let n = 0;
  for (let u = 0; u < opts.users; u++) {
    const user = `u${u}`;
    const tz = pick(zones);
    const fav = Math.floor(rnd() * cats.length);
    for (let d = 0; d < opts.days; d++) {
      if (rnd() > 0.33) continue;
      const localHour = 7 + rnd() * 16;
      let ts = start + d * DAY + (localHour - (offsets[tz] ?? 0)) * HOUR;
      const cat = rnd() < 0.7 ? fav : Math.floor(rnd() * cats.length);
      const carted: number[] = [];
      const len = 3 + Math.floor(rnd() * 25);
      for (let k = 0; k < len; k++) {
        ts += Math.floor(5_000 + rnd() * 120_000);
        const pool = byCat[rnd() < 0.85 ? cat : Math.floor(rnd() * cats.length)]!;
        let item = pick(pool);
        const r = rnd();
        let type =
          r < 0.62
            ? 'view'
            : r < 0.8
              ? 'click'
              : r < 0.9
                ? 'add_to_cart'
                : r < 0.93
                  ? 'remove_from_cart'
                  : 'purchase';
        if (
          (type === 'purchase' || type === 'remove_from_cart') &&
          carted.length > 0 &&
          rnd() < 0.8
        )
          item = carted.splice(Math.floor(rnd() * carted.length), 1)[0]!;
        if (type === 'add_to_cart') carted.push(item);
        if (type === 'remove_from_cart' && carted.length === 0) type = 'view';
        clicks.push({
          ts,
          line: JSON.stringify({
            event_id: `s${n++}`,
            ts,
            user_id: user,
            item_id: `item-${item}`,
            type,
            category: cats[item % cats.length],
            price: price[item],
            session_id: `${user}-${d}`,
            ...(k === 0 && { props: { tz } }),
          }),
        });
      }
    }
  }
  clicks.sort((a, b) => a.ts - b.ts);
  catalog.sort((a, b) => a.ts - b.ts);
  return { clicks: clicks.map((c) => c.line), catalog: catalog.map((c) => c.line) };
}

interface Report {
  input: string;
  events: number;
  users: number;
  days: number;
  seconds: number;
  pushes: ReplaySummary['pushes'];
  per_user_per_day: Record<string, number>;
  pushed_users: number;
}

async function report(input: string, items?: string): Promise<Report> {
  const { summary, sink } = (await replay({
    input,
    format: input.endsWith('.jsonl') ? 'jsonl' : 'online-retail',
    model: 'default',
    evaluate: false,
    k: 10,
    topK: 20,
    batchSize: 500,
    dedupeCapacity: 1_000_000,
    progress: false,
    // The trigger volumes under the fixed rules (the learned policy is bench/push-sim.ts's).
    push: { policy: 'static', holdout: { fraction: 0 } },
    ...(items !== undefined && { items }),
  })) as { summary: ReplaySummary; sink: MemorySink };
  const users = sink.servedUsers.size;
  const days = Math.max(1, (sink.lastEventTs - sink.firstEventTs) / DAY);
  const per: Record<string, number> = {};
  for (const [t, c] of Object.entries(summary.pushes)) per[t] = c.sent / users / days;
  return {
    input,
    events: summary.events,
    users,
    days: Number(days.toFixed(1)),
    seconds: summary.seconds,
    pushes: summary.pushes,
    per_user_per_day: per,
    pushed_users: sink.pushedUsers.size,
  };
}

const TRIGGERS = [
  'abandoned_cart',
  'price_drop',
  'back_in_stock',
  'interest_burst',
  'new_recommendation',
];

function table(r: Report): string {
  const rows = TRIGGERS.map((t) => {
    const c = r.pushes[t] ?? { sent: 0, deferred: 0, suppressed: 0 };
    return `| ${t} | ${c.sent} | ${c.deferred} | ${c.suppressed} | ${(r.per_user_per_day[t] ?? 0).toFixed(4)} |`;
  });
  const sent = TRIGGERS.reduce((s, t) => s + (r.pushes[t]?.sent ?? 0), 0);
  return [
    `${r.input}: ${r.events} lines, ${r.users} active users, ${r.days} days, ${r.pushed_users} users pushed, ${r.seconds} s`,
    '',
    '| trigger | sent | deferred | suppressed | sent per active user per day |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows,
    `| all | ${sent} | | | ${(sent / r.users / r.days).toFixed(4)} |`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      uci: { type: 'string', default: '../shared/data/uci-online-retail/online_retail.csv.gz' },
      users: { type: 'string', default: '2000' },
      items: { type: 'string', default: '800' },
      days: { type: 'string', default: '14' },
      out: { type: 'string', default: 'bench/out' },
      'skip-uci': { type: 'boolean', default: false },
    },
  });
  mkdirSync(values.out, { recursive: true });
  const shop = syntheticShop({
    users: Number(values.users),
    items: Number(values.items),
    days: Number(values.days),
    seed: 6,
  });
  const clicks = join(values.out, 'push-clicks.jsonl');
  const catalog = join(values.out, 'push-items.jsonl');
  writeFileSync(clicks, `${shop.clicks.join('\n')}\n`);
  writeFileSync(catalog, `${shop.catalog.join('\n')}\n`);
  const reports: Report[] = [await report(clicks, catalog)];
  if (!values['skip-uci']) reports.push(await report(values.uci));
  for (const r of reports) process.stderr.write(`\n${table(r)}\n`);
  process.stdout.write(`${JSON.stringify(reports)}\n`);
}

await main();
