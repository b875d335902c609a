/**
 * Prequential benchmark of the recommenders on an input file (default: UCI Online Retail).
 *   npx tsc -p tsconfig.json && node dist/bench/models.js [FILE] [--models a,b] [--limit N]
 *     [--k 10] [--opt model.key=value ...] [--series-window N] [--items CATALOG.jsonl] [--json]
 * --json prints one line with every model's metrics and its learning curve (`series`: HR@K per
 * window of N evaluated events, as [event time ms, hr]; default N = 5000).
 * Every model sees the same deduplicated event stream; each one's time covers only its own
 * learn + recommend calls, so "events/s" is the model's in-process throughput.
 */
import { readInputRecords } from '../pipeline/formats/input-records.js';
import { formatFromFileName } from '../pipeline/formats/read-lines.js';
import type { ClickEvent, ItemEvent } from '../models/event.js';
import { PrequentialEvaluator } from '../models/prequential.js';
import type { Recommender } from '../models/recommender.js';
import {
  RECOMMENDER_NAMES,
  createRecommender,
  sequenceOf,
  type RecommenderOptions,
} from '../models/registry.js';
import { validateMessage } from '../stream/validate-event.js';
import { validateItemMessage } from '../stream/validate-item.js';

const DEFAULT_FILE = '/work/shared/data/uci-online-retail/online_retail.csv.gz';

interface Args {
  file: string;
  models: string[];
  limit: number;
  k: number;
  opts: Record<string, Record<string, unknown>>;
  json: boolean;
  seriesWindow: number;
  /** A JSONL catalog (topic `items`), fed to the models in event-time order with the stream. */
  items?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    file: DEFAULT_FILE,
    models: [...RECOMMENDER_NAMES],
    limit: Infinity,
    k: 10,
    opts: {},
    json: false,
    seriesWindow: 5000,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--models') a.models = next().split(',');
    else if (arg === '--limit') a.limit = Number(next());
    else if (arg === '--k') a.k = Number(next());
    else if (arg === '--json') a.json = true;
    else if (arg === '--series-window') a.seriesWindow = Number(next());
    else if (arg === '--items') a.items = next();
    else if (arg === '--opt') {
      const m = /^([\w@/-]+)\.([\w.]+)=(.*)$/.exec(next());
      if (!m) throw new Error('--opt wants model.key=value (key may be a dotted path)');
      const value: unknown =
        m[3] === 'true'
          ? true
          : m[3] === 'false'
            ? false
            : Number.isNaN(Number(m[3]))
              ? m[3]
              : Number(m[3]);
      const path = m[2].split('.');
      let o: Record<string, unknown> = (a.opts[m[1]] ??= {});
      for (const key of path.slice(0, -1)) {
        const next = o[key];
        o =
          typeof next === 'object' && next !== null
            ? (next as Record<string, unknown>)
            : (o[key] = {});
      }
      o[path[path.length - 1]] = value;
    } else if (arg.startsWith('--')) throw new Error(`unknown flag ${arg}`);
    else a.file = arg;
  }
  return a;
}

interface Run {
  name: string;
  rec: Recommender;
  ev: PrequentialEvaluator;
  ns: bigint;
  cpuUs: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // "mf@fast" is model mf with the options given as --opt mf@fast.key=value (plus plain mf.key=value)
  const runs: Run[] = args.models.map((name) => ({
    name,
    rec: createRecommender(name.split('@')[0], optionsFor(name, args.opts)),
    ev: new PrequentialEvaluator(args.k, { window: args.seriesWindow }),
    ns: 0n,
    cpuUs: 0,
  }));
  const seen = new Set<string>();
  const batch: (ClickEvent | ItemEvent)[] = [];
  let lines = 0;
  let events = 0;
  let invalid = 0;
  let duplicates = 0;
  const catalog = args.items ? await loadCatalog(args.items) : [];
  let nextItem = 0;
  const t0 = process.hrtime.bigint();

  const flush = (): void => {
    for (const r of runs) {
      const s = process.hrtime.bigint();
      const c = process.cpuUsage();
      for (const e of batch) {
        if ('eventId' in e) r.ev.step(e, r.rec);
        else r.rec.learnItem?.(e);
      }
      const dc = process.cpuUsage(c);
      r.ns += process.hrtime.bigint() - s;
      r.cpuUs += dc.user + dc.system;
    }
    for (const e of batch) if ('eventId' in e) events++;
    batch.length = 0;
    if (events % 50_000 < 1000) {
      const hr = runs.map((r) => `${r.name} ${r.ev.summary().hr.toFixed(4)}`).join(' ');
      process.stderr.write(`[bench] ${events} events, HR@${args.k}: ${hr}\n`);
    }
  };

  for await (const rec of readInputRecords(args.file, formatFromFileName(args.file))) {
    if (rec.kind === 'catalog') {
      // titles reach the models as catalog facts, in stream order (as the graph applies them)
      const item = validateItemMessage(rec.value);
      if (item.ok) batch.push(item.item);
      continue;
    }
    if (++lines > args.limit) break;
    if (rec.kind !== 'message') continue;
    const v = validateMessage(rec.value);
    if (!v.ok) {
      invalid++;
      continue;
    }
    if (seen.has(v.event.eventId)) {
      duplicates++;
      continue;
    }
    seen.add(v.event.eventId);
    while (nextItem < catalog.length && (catalog[nextItem] as ItemEvent).ts <= v.event.ts)
      batch.push(catalog[nextItem++] as ItemEvent);
    batch.push(v.event);
    if (batch.length === 1000) flush();
  }
  flush();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;

  const rows = runs.map((r) => {
    const s = r.ev.summary();
    const sec = Number(r.ns) / 1e9;
    // the GRU's in-process fits run inside learn(); serving cost is the rest
    const gru = sequenceOf(r.rec);
    // (with sequence.fitLag > 0 the fits run on a worker: the main thread only waits for them)
    const gruCols: {
      fits?: number;
      fit_seconds?: number;
      fit_main_seconds?: number;
      serving_us_per_event?: number;
    } = gru
      ? {
          fits: gru.fits,
          fit_seconds: round(gru.fitSeconds, 2),
          fit_main_seconds: round(gru.fitMainSeconds, 2),
          serving_us_per_event: round(((sec - gru.fitMainSeconds) / events) * 1e6, 2),
        }
      : {};
    return {
      ...gruCols,
      model: r.name,
      [`hr_at_${args.k}`]: round(s.hr),
      [`ndcg_at_${args.k}`]: round(s.ndcg),
      evaluated: s.evaluated,
      hits: s.hits,
      model_seconds: round(sec, 2),
      events_per_s: Math.round(events / sec),
      // the machine is shared: CPU time is the steadier measure of the model's own cost
      events_per_cpu_s: Math.round(events / (r.cpuUs / 1e6)),
      series_window: args.seriesWindow,
      series: r.ev.series().map((p) => [p.ts, round(p.hr, 4)]),
    };
  });
  process.stderr.write(
    `[bench] ${lines} lines, ${events} events, ${invalid} invalid, ${duplicates} duplicates, ${wall.toFixed(1)} s wall\n`,
  );
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ file: args.file, lines, events, k: args.k, models: rows })}\n`,
    );
    return;
  }
  const header = [
    'model',
    `HR@${args.k}`,
    `NDCG@${args.k}`,
    'evaluated',
    'events/s',
    'events/cpu-s',
  ];
  const table = rows.map((r, i) => [
    r.model,
    String(round(runs[i].ev.summary().hr)),
    String(round(runs[i].ev.summary().ndcg)),
    String(r.evaluated),
    String(r.events_per_s),
    String(r.events_per_cpu_s),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  for (const row of [header, ...table]) {
    process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i])).join('  ')}\n`);
  }
}

function optionsFor(
  label: string,
  opts: Record<string, Record<string, unknown>>,
): RecommenderOptions {
  const base = label.split('@')[0];
  const out: Record<string, Record<string, unknown>> = {};
  for (const [key, o] of Object.entries(opts)) {
    if (key.includes('@')) continue;
    out[key] = { ...o };
  }
  if (label !== base) {
    for (const [key, o] of Object.entries(opts)) {
      if (key === label) out[base] = { ...out[base], ...o };
      else if (key.startsWith(`${label}/`)) {
        // mf@x/itemknn.key=value: options of a component inside a hybrid run
        const sub = key.slice(label.length + 1);
        out[sub] = { ...out[sub], ...o };
      }
    }
  }
  return out as RecommenderOptions;
}

/** The catalog file's valid records, oldest first. */
async function loadCatalog(file: string): Promise<ItemEvent[]> {
  const out: ItemEvent[] = [];
  for await (const rec of readInputRecords(file, 'jsonl')) {
    if (rec.kind !== 'message') continue;
    const v = validateItemMessage(rec.value);
    if (v.ok) out.push(v.item);
  }
  return out.sort((a, b) => a.ts - b.ts);
}

function round(x: number, d = 5): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
