import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { replay, type ReplayOptions } from '../../pipeline/runtime/replay.js';

/**
 * Every quality figure in the docs comes from `replay --eval prequential`, so these pin it:
 * the documented figure of the default model on the bundled sample, the summary's counts
 * (recomputed here from the raw CSV without the product's parser), and the CONTRACT §3
 * protocol on a small stream whose expected hits are worked out by brute force.
 */

const SAMPLE = 'examples/online-retail-sample.csv.gz';
const dir = mkdtempSync(join(tmpdir(), 'replay-guards-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function options(input: string, over: Partial<ReplayOptions>): ReplayOptions {
  return {
    input,
    format: 'online-retail',
    model: 'default',
    evaluate: true,
    k: 10,
    topK: 20,
    batchSize: 500,
    dedupeCapacity: 1_000_000,
    progress: false,
    ...over,
  };
}

/** The sample's row in docs/BENCHMARKS.md, so the docs and this test cannot drift apart. */
function documentedSampleFigures(): { hr: number; ndcg: number; evaluated: number } {
  const doc = readFileSync('docs/BENCHMARKS.md', 'utf8');
  const m = /^\| bundled sample \| default \| ([\d.]+) \| ([\d.]+) \| ([\d,]+) \|/m.exec(doc);
  if (!m) throw new Error('docs/BENCHMARKS.md has no "| bundled sample | default |" row');
  return { hr: Number(m[1]), ndcg: Number(m[2]), evaluated: Number(m[3]!.replace(/,/g, '')) };
}

/** Quote-aware CSV split, written independently of pipeline/formats/online-retail.ts. */
function fields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** The counts CONTRACT §2/§3 imply for the sample, by straightforward bookkeeping. */
function expectedSampleCounts(): Record<string, number> {
  const lines = gunzipSync(readFileSync(SAMPLE)).toString('utf8').split('\n');
  let events = 0;
  let filtered = 0;
  let duplicates = 0;
  let evaluated = 0;
  const ids = new Set<string>();
  const described = new Set<string>();
  const seenUsers = new Set<string>();
  const bought = new Set<string>();
  for (const raw of lines.slice(1)) {
    const line = raw.replace(/\r$/, '');
    if (line === '') continue;
    events++;
    const [invoice = '', code = '', title = '', qty = '', , , customer = ''] = fields(line);
    if (customer.trim() === '' || invoice.startsWith('C') || !(Number(qty) > 0)) {
      filtered++;
      continue;
    }
    if (title !== '') described.add(code);
    const id = `${invoice}:${code}`;
    if (ids.has(id)) {
      duplicates++;
      continue;
    }
    ids.add(id);
    const user = customer.replace(/\.0$/, '');
    if (seenUsers.has(user) && !bought.has(`${user}\u0000${code}`)) evaluated++;
    seenUsers.add(user);
    bought.add(`${user}\u0000${code}`);
  }
  return {
    events,
    filtered,
    valid: events - filtered,
    duplicates,
    unique_events: ids.size,
    users_served: seenUsers.size,
    catalog_updates: described.size,
    evaluated,
  };
}

describe('replay --eval prequential on the bundled sample', () => {
  it('reproduces the documented HR@10 / NDCG@10 of the default model and the expected counts', async () => {
    const { summary } = await replay(options(SAMPLE, {}));
    const doc = documentedSampleFigures();
    expect(Math.abs(summary.hr_at_10! - doc.hr)).toBeLessThanOrEqual(0.002);
    expect(Math.abs(summary.ndcg_at_10! - doc.ndcg)).toBeLessThanOrEqual(0.002);
    expect(summary.evaluated).toBe(doc.evaluated);

    const want = expectedSampleCounts();
    expect({
      events: summary.events,
      filtered: summary.filtered,
      valid: summary.valid,
      duplicates: summary.duplicates,
      unique_events: summary.unique_events,
      users_served: summary.users_served,
      catalog_updates: summary.catalog_updates,
      evaluated: summary.evaluated,
    }).toEqual(want);
    expect(summary.dead_letter).toBe(0);
    expect(summary.model).toBe('default');
    // seconds is rounded to ms in the summary, events_per_s is not
    expect(summary.events_per_s / (summary.events / summary.seconds)).toBeCloseTo(1, 2);
  }, 120_000);
});

// ---- the protocol on a small hand-made stream, against a brute-force popularity oracle ----

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;
const HALF_LIFE_MS = 14 * 86_400_000; // `popular`'s default half-life
const WEIGHT: Record<string, number> = { view: 1, click: 2, add_to_cart: 4, purchase: 6 };

interface Line {
  event_id: string;
  ts: number;
  user_id: string;
  item_id: string;
  type: string;
}

/** A seeded stream of 4 users and 7 items, with a repeated event id and one malformed line. */
function handMadeStream(): { lines: string[]; events: Line[] } {
  let s = 7;
  const rnd = (n: number): number => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % n);
  const types = [
    'view',
    'view',
    'click',
    'add_to_cart',
    'purchase',
    'purchase',
    'remove_from_cart',
  ];
  const events: Line[] = [];
  for (let t = 0; t < 60; t++) {
    events.push({
      event_id: `e${t}`,
      ts: T0 + t * HOUR,
      user_id: `u${rnd(4)}`,
      item_id: `i${rnd(7)}`,
      type: types[rnd(types.length)]!,
    });
  }
  const lines = events.map((e) => JSON.stringify(e));
  lines.splice(20, 0, JSON.stringify(events[10]), '{"event_id": "broken"');
  return { lines, events };
}

/** §3 re-derived from scratch for every event, scoring items by decayed weighted counts. */
function bruteForce(
  events: readonly Line[],
  k: number,
): { evaluated: number; hits: number; dcg: number } {
  let evaluated = 0;
  let hits = 0;
  let dcg = 0;
  events.forEach((e, t) => {
    const before = events.slice(0, t);
    const mine = before.filter((b) => b.user_id === e.user_id);
    const test =
      (e.type === 'purchase' || e.type === 'add_to_cart') &&
      mine.length > 0 &&
      !mine.some(
        (b) => b.item_id === e.item_id && (b.type === 'purchase' || b.type === 'add_to_cart'),
      );
    if (!test) return;
    evaluated++;
    const bought = new Set(mine.filter((b) => b.type === 'purchase').map((b) => b.item_id));
    const score = new Map<string, number>();
    for (const b of before) {
      const w = WEIGHT[b.type] ?? 0;
      if (w > 0)
        score.set(b.item_id, (score.get(b.item_id) ?? 0) + w * 2 ** ((b.ts - T0) / HALF_LIFE_MS));
    }
    const list = [...score]
      .filter(([item]) => !bought.has(item))
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([item]) => item);
    const rank = list.indexOf(e.item_id);
    if (rank < 0) return;
    hits++;
    dcg += 1 / Math.log2(rank + 2);
  });
  return { evaluated, hits, dcg };
}

describe('replay --eval prequential on a hand-made stream', () => {
  it('evaluates exactly the CONTRACT §3 test cases and scores them like the brute-force oracle', async () => {
    const { lines, events } = handMadeStream();
    const file = join(dir, 'stream.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const k = 3;
    const { summary } = await replay(
      options(file, { format: 'jsonl', model: 'popular', k, batchSize: 7 }),
    );
    const want = bruteForce(events, k);
    expect(want.evaluated).toBeGreaterThan(5);
    expect(want.hits).toBeGreaterThan(0);
    expect(want.hits).toBeLessThan(want.evaluated);
    expect(summary.events).toBe(lines.length);
    expect(summary.duplicates).toBe(1);
    expect(summary.dead_letter).toBe(1);
    expect(summary.unique_events).toBe(events.length);
    expect(summary.evaluated).toBe(want.evaluated);
    expect(summary.hr_at_3).toBeCloseTo(want.hits / want.evaluated, 5);
    expect(summary.ndcg_at_3).toBeCloseTo(want.dcg / want.evaluated, 5);
  });
});
