import { from, lastValueFrom, tap, defaultIfEmpty } from 'rxjs';
import { configSchema, type Config } from '../../config/schema.js';
import type { ClickEvent } from '../../models/event.js';
import { PrequentialEvaluator } from '../../models/prequential.js';
import { FeatureStore } from '../../features/feature-store.js';
import { featureLimits } from '../../features/config.js';
import { PushEngine } from '../../push/engine.js';
import { featureStoreBaseline } from '../../push/burst-baseline.js';
import type { PushOverrides } from '../../push/options.js';
import { parseTimestamp } from '../../stream/validate-event.js';
import { validateItemMessage } from '../../stream/validate-item.js';
import type { Batch, GraphBatch, RawMessage } from '../../operators/types.js';
import { readInputRecords } from '../formats/input-records.js';
import { PurchaseHistory } from '../../models/purchase-history.js';
import { createRecommender, type RecommenderOptions } from '../../models/registry.js';
import type { ServingPolicyConfig } from '../../models/ranking/policy.js';
import { MemorySink } from '../../sinks/memory.js';
import { newReadPosition, type InputFormat } from '../formats/read-lines.js';
import { recpipeIngest, recpipeProcess } from '../graph.js';
import { replayTopology } from '../topology.js';
import { Progress } from '../progress.js';
import { fileBatches, type FileReadStats } from './file-batches.js';

export interface ReplayOptions {
  readonly input: string;
  /** Pseudonymise user ids right after parsing (config `privacy.userIdHashKey`). */
  readonly userIdHashKey?: string;
  readonly format: InputFormat;
  readonly model: string;
  /** Options of the model (e.g. the GRU's weight in the blend, config `sequence`). */
  readonly modelOptions?: RecommenderOptions;
  readonly evaluate: boolean;
  readonly k: number;
  readonly topK: number;
  readonly limit?: number;
  readonly batchSize: number;
  readonly dedupeCapacity: number;
  /** Caps of per-id state (config `limits`); default: the config defaults. */
  readonly limits?: Config['limits'];
  /** Event time may be at most this far ahead of the wall clock (as in `run`); default 10 min. */
  readonly maxFutureSkewMs?: number;
  readonly progress: boolean;
  /** Push settings (the config's `push` section); defaults when absent. */
  readonly push?: PushOverrides;
  /** A JSONL file of catalog events (the `items` topic), merged into the input by event time. */
  readonly items?: string;
  /** Serving filters, boosts and diversity (the config's `ranking` section); defaults when absent. */
  readonly policy?: ServingPolicyConfig;
  /** Sees every processed batch (its push decisions, features...), e.g. to compare with `run`. */
  readonly onBatch?: (batch: GraphBatch) => void;
}

export interface ReplaySummary {
  events: number;
  valid: number;
  dead_letter: number;
  filtered: number;
  duplicates: number;
  unique_events: number;
  users_served: number;
  late_feature_events: number;
  seconds: number;
  events_per_s: number;
  model: string;
  dead_letter_reasons: Record<string, number>;
  /** Catalog records: lines of --items plus those the input format derived (online-retail titles). */
  catalog_updates?: number;
  /** Push decisions per trigger: what `run` would decide, before the cross-instance claim. */
  pushes: Record<string, { sent: number; deferred: number; suppressed: number }>;
  peak_rss_mb: number;
  evaluated?: number;
  /** HR@K per SERIES_WINDOW evaluated events: [event time ms, HR@K in that window]. */
  series?: [number, number][];
  series_window?: number;
  [metric: `hr_at_${number}` | `ndcg_at_${number}`]: number;
}

/** Runs the whole graph in-process over a file, with in-memory sinks and no external service. */
export async function replay(
  opts: ReplayOptions,
): Promise<{ summary: ReplaySummary; sink: MemorySink }> {
  const limits = opts.limits ?? configSchema.parse({}).limits;
  const recommender = createRecommender(opts.model, opts.modelOptions ?? {}, limits);
  const history = new PurchaseHistory({ users: limits.users, perUser: limits.purchasesPerUser });
  // No feature sink in replay: keep every window and aggregate, but build no sink rows.
  const features = new FeatureStore({ emitRows: false, ...featureLimits(limits) });
  const push = new PushEngine(opts.push ?? {}, featureStoreBaseline(features));
  const catalog = { lines: 0 };
  const evaluator = opts.evaluate
    ? new PrequentialEvaluator(opts.k, {
        window: SERIES_WINDOW,
        maxUsers: limits.users,
        maxItemsPerUser: limits.purchasesPerUser,
      })
    : undefined;
  const learn = evaluator ? (e: ClickEvent) => evaluator.step(e, recommender) : undefined;
  const sink = new MemorySink(limits.users);
  const stats: FileReadStats = { records: 0, filtered: 0 };
  const position = newReadPosition(opts.input);
  const progress = new Progress('replay', undefined, opts.progress);

  const started = performance.now();
  const rate = (): string => {
    const s = (performance.now() - started) / 1000;
    const pct =
      position.totalBytes > 0
        ? ` ${((100 * position.bytesRead) / position.totalBytes).toFixed(0)}%`
        : '';
    const hr = evaluator ? ` HR@${opts.k} ${evaluator.summary().hr.toFixed(4)}` : '';
    return `events,${pct} ${Math.round(stats.records / Math.max(s, 1e-9)).toLocaleString('en-US')} ev/s${hr}`;
  };

  // one stand-in topic for catalog records: the --items file's and those the format derives
  const itemsTopic = opts.items ?? `${opts.input}#items`;
  const graph = {
    recommender,
    history,
    features,
    topK: opts.topK,
    dedupeCapacity: opts.dedupeCapacity,
    modelVersion: `${recommender.name}@replay`,
    idlePartitionMs: 0,
    ...(opts.maxFutureSkewMs !== undefined && { maxFutureSkewMs: opts.maxFutureSkewMs }),
    ...(opts.userIdHashKey && { userIdHashKey: opts.userIdHashKey }),
    ...(learn && { learn }),
    itemsTopic,
    maxCatalogItems: limits.items,
    push,
    ...(opts.policy && { policy: opts.policy }),
  };
  // The stages of pipeline/topology.ts (`recpipe describe replay`), piped in the declared order.
  await lastValueFrom(
    replayTopology({
      source: from(
        withCatalog(
          fileBatches(opts.input, opts.format, {
            batchSize: opts.batchSize,
            ...(opts.limit !== undefined && { limit: opts.limit }),
            position,
            stats,
            catalogTopic: itemsTopic,
          }),
          opts.items,
          catalog,
        ),
      ),
      ingest: recpipeIngest(graph),
      graph: recpipeProcess(graph),
      sinks: tap((batch) => {
        sink.write(batch);
        opts.onBatch?.(batch);
        progress.update(stats.records, rate());
      }),
    }).pipe(defaultIfEmpty(undefined)),
  );
  const seconds = (performance.now() - started) / 1000;
  progress.finish(stats.records, rate());

  const catalogRecords = catalog.lines + (stats.catalog ?? 0);
  const summary: ReplaySummary = {
    events: stats.records,
    valid: sink.messages - sink.deadLetters - catalogRecords,
    dead_letter: sink.deadLetters,
    filtered: stats.filtered,
    duplicates: sink.duplicates,
    unique_events: sink.valid,
    users_served: sink.servedUsers.size,
    late_feature_events: sink.lateFeatureEvents,
    seconds: round(seconds, 3),
    events_per_s: Math.round(stats.records / Math.max(seconds, 1e-9)),
    model: recommender.name,
    dead_letter_reasons: Object.fromEntries(sink.deadLetterReasons),
    ...((opts.items !== undefined || catalogRecords > 0) && { catalog_updates: catalogRecords }),
    pushes: Object.fromEntries([...sink.pushes].sort(([a], [b]) => a.localeCompare(b))),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (evaluator) {
    const s = evaluator.summary();
    summary.evaluated = s.evaluated;
    // trusted-key: metric names built from --k
    summary[`hr_at_${opts.k}`] = round(s.hr, 5);
    // trusted-key: metric names built from --k
    summary[`ndcg_at_${opts.k}`] = round(s.ndcg, 5);
    summary.series = evaluator.series().map((p) => [p.ts, round(p.hr, 5)]);
    summary.series_window = SERIES_WINDOW;
  }
  return { summary, sink };
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** Evaluated events per learning-curve point; the benchmark plots compare at this resolution. */
const SERIES_WINDOW = 5000;

/** Event time of a JSON line, or -Infinity when it has none (it will be a dead letter anyway). */
function lineTs(value: string): number {
  try {
    const o = JSON.parse(value) as { ts?: unknown };
    const ts = parseTimestamp(o.ts);
    return typeof ts === 'number' ? ts : -Infinity;
  } catch {
    return -Infinity;
  }
}

/**
 * Replay's stand-in for the `items` topic: catalog lines (topic = the items file) are put in
 * front of the first input batch whose last event is not older than them, so the graph sees
 * catalog updates in event-time order with the clickstream, at batch granularity.
 */
async function* withCatalog(
  batches: AsyncGenerator<Batch<RawMessage>>,
  itemsFile: string | undefined,
  counter: { lines: number },
): AsyncGenerator<Batch<RawMessage>> {
  if (itemsFile === undefined) {
    yield* batches;
    return;
  }
  const catalog: { ts: number; msg: RawMessage }[] = [];
  for await (const rec of readInputRecords(itemsFile, 'jsonl')) {
    if (rec.kind !== 'message') continue;
    const v = validateItemMessage(rec.value);
    catalog.push({
      ts: v.ok ? v.item.ts : -Infinity,
      msg: { topic: itemsFile, partition: 0, offset: rec.line, value: rec.value },
    });
  }
  catalog.sort((a, b) => a.ts - b.ts);
  counter.lines = catalog.length;
  let next = 0;
  let seq = 0;
  for await (const b of batches) {
    let until = -Infinity;
    for (let i = b.items.length - 1; i >= 0 && until === -Infinity; i--) {
      const raw = (b.items[i] as RawMessage).value;
      until = lineTs(typeof raw === 'string' ? raw : raw.toString('utf8'));
    }
    const due: RawMessage[] = [];
    while (next < catalog.length && (catalog[next] as { ts: number }).ts <= until)
      due.push((catalog[next++] as { msg: RawMessage }).msg);
    yield { ...b, seq: seq++, items: due.length > 0 ? [...due, ...b.items] : b.items };
  }
  if (next < catalog.length) {
    const rest = catalog.slice(next).map((c) => c.msg);
    yield { seq: seq++, items: rest, commits: [] };
  }
}
