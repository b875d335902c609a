/**
 * Converts the Taobao UserBehavior sample (../shared/data, research-only: measured on, never
 * committed) into a clickstream and a catalog the quality benchmarks read:
 *   node dist/bench/taobao.js [IN.csv.gz] [--out bench/out/streams]  → taobao.jsonl, taobao-items.jsonl
 * Rows are user_id,item_id,category_id,behavior,timestamp (seconds); behaviours map pv → view,
 * fav → click, cart → add_to_cart, buy → purchase. Each item's catalog record (its category)
 * is dated just before the item's first event.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLines, lineText } from '../pipeline/formats/read-lines.js';

const TYPES = new Map([
  ['pv', 'view'],
  ['fav', 'click'],
  ['cart', 'add_to_cart'],
  ['buy', 'purchase'],
]);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let input = '/work/shared/data/taobao-userbehavior-sample/user_behavior_sample.csv.gz';
  let out = 'bench/out/streams';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = argv[++i] ?? out;
    else input = argv[i] as string;
  }
  const events: { ts: number; json: string }[] = [];
  const catalog = new Map<string, string>();
  let n = 0;
  for await (const raw of readLines(input)) {
    const [user, item, category, behavior, seconds] = lineText(raw).trim().split(',');
    const type = TYPES.get(behavior ?? '');
    const ts = Number(seconds) * 1000;
    if (!user || !item || !category || type === undefined || !Number.isFinite(ts)) continue;
    const eventId = `tb${++n}`;
    events.push({
      ts,
      json: JSON.stringify({ event_id: eventId, ts, user_id: user, item_id: item, type, category }),
    });
    if (!catalog.has(item))
      catalog.set(item, JSON.stringify({ item_id: item, ts: ts - 1, category }));
  }
  // the file is time-sorted only roughly; the stream is replayed in event-time order
  events.sort((a, b) => a.ts - b.ts);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'taobao.jsonl'), `${events.map((e) => e.json).join('\n')}\n`);
  writeFileSync(join(out, 'taobao-items.jsonl'), `${[...catalog.values()].join('\n')}\n`);
  process.stderr.write(`[taobao] ${events.length} events, ${catalog.size} items -> ${out}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
