/**
 * Every recommender on every quality stream, one table (docs/BENCHMARKS.md, "Quality across
 * streams"):
 *   npx tsc -p tsconfig.json && node dist/bench/quality.js [--seed 1] [--models a,b] [--skip-retail]
 *     [--streams drift,sequential,coldstart,'taobao sample','online retail'] [--opt model.key=value ...]
 * Generates the synthetic streams (bench/streams.ts) into bench/out/streams, converts the Taobao
 * sample when ../shared/data has it (bench/taobao.ts; research-only, never committed), and runs
 * bench/models.js (prequential, K = 10) on each, plus the full UCI Online Retail file. Prints a
 * markdown table: HR@10, NDCG@10 and events/s (the model's own learn + recommend throughput).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const OUT = 'bench/out/streams';
const RETAIL = '/work/shared/data/uci-online-retail/online_retail.csv.gz';
const TAOBAO = '/work/shared/data/taobao-userbehavior-sample/user_behavior_sample.csv.gz';
const here = (f: string): string => join('dist', 'bench', f);

interface Row {
  model: string;
  fits?: number;
  fit_seconds?: number;
  serving_us_per_event?: number;
  hr_at_10: number;
  ndcg_at_10: number;
  events_per_s: number;
  evaluated: number;
}

function run(file: string, items: string | undefined, models: string, opts: string[]): Row[] {
  const args = [here('models.js'), file, '--models', models, '--json', ...opts];
  if (items) args.push('--items', items);
  const out = execFileSync(process.execPath, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 28,
  });
  const last = out.trim().split('\n').pop() ?? '{}';
  return (JSON.parse(last) as { models: Row[] }).models;
}

/** Models with a GRU: its in-process fits, their time, and the serving cost without them. */
const gruCells = (r: Row): string =>
  r.fits !== undefined
    ? ` ${r.fits} fits, ${r.fit_seconds ?? 0} s; serving ${r.serving_us_per_event ?? 0} µs/event |`
    : ' |';

function main(): void {
  const argv = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seed = flag('--seed') ?? '1';
  const models = flag('--models') ?? 'default,itemknn,ranked,content,trending,mf,popular';
  // --opt model.key=value, passed on to bench/models.js (repeatable)
  const opts = argv.flatMap((a, i) => (a === '--opt' ? ['--opt', argv[i + 1] ?? ''] : []));
  const only = flag('--streams')?.split(',');
  execFileSync(process.execPath, [here('streams.js'), '--out', OUT, '--seed', seed], {
    stdio: 'inherit',
  });
  const streams: [string, string, string | undefined][] = [
    ['drift', join(OUT, 'drift.jsonl'), join(OUT, 'drift-items.jsonl')],
    ['sequential', join(OUT, 'sequential.jsonl'), join(OUT, 'sequential-items.jsonl')],
    ['coldstart', join(OUT, 'coldstart.jsonl'), join(OUT, 'coldstart-items.jsonl')],
  ];
  if (existsSync(TAOBAO)) {
    execFileSync(process.execPath, [here('taobao.js'), TAOBAO, '--out', OUT], { stdio: 'inherit' });
    streams.push(['taobao sample', join(OUT, 'taobao.jsonl'), join(OUT, 'taobao-items.jsonl')]);
  }
  if (!argv.includes('--skip-retail') && existsSync(RETAIL))
    streams.push(['online retail', RETAIL, undefined]);

  const lines = [
    '| stream | model | HR@10 | NDCG@10 | evaluated | events/s | GRU |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const [name, file, items] of streams) {
    process.stderr.write(`[quality] ${name}\n`);
    if (only && !only.includes(name)) continue;
    for (const r of run(file, items, models, opts)) {
      lines.push(
        `| ${name} | ${r.model} | ${r.hr_at_10.toFixed(4)} | ${r.ndcg_at_10.toFixed(4)} | ${r.evaluated.toLocaleString('en-US')} | ${r.events_per_s.toLocaleString('en-US')} |${gruCells(r)}`,
      );
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
