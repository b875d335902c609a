import { from, lastValueFrom, tap, defaultIfEmpty } from 'rxjs';
import type { ClickEvent } from '../../models/event.js';
import { PrequentialEvaluator } from '../../models/prequential.js';
import { FeatureStore } from '../../models/features/feature-store.js';
import { PurchaseHistory } from '../../models/purchase-history.js';
import { createRecommender } from '../../models/registry.js';
import { MemorySink } from '../../sinks/memory.js';
import { newReadPosition, type InputFormat } from '../formats/read-lines.js';
import { recpipeGraph } from '../graph.js';
import { Progress } from '../progress.js';
import { fileBatches, type FileReadStats } from './file-batches.js';

export interface ReplayOptions {
  readonly input: string;
  readonly format: InputFormat;
  readonly model: string;
  readonly evaluate: boolean;
  readonly k: number;
  readonly topK: number;
  readonly limit?: number;
  readonly batchSize: number;
  readonly dedupeCapacity: number;
  readonly progress: boolean;
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
  const recommender = createRecommender(opts.model);
  const history = new PurchaseHistory();
  // No feature sink in replay: keep every window and aggregate, but build no sink rows.
  const features = new FeatureStore({ emitRows: false });
  const evaluator = opts.evaluate
    ? new PrequentialEvaluator(opts.k, { window: SERIES_WINDOW })
    : undefined;
  const learn = evaluator ? (e: ClickEvent) => evaluator.step(e, recommender) : undefined;
  const sink = new MemorySink();
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

  await lastValueFrom(
    from(
      fileBatches(opts.input, opts.format, {
        batchSize: opts.batchSize,
        ...(opts.limit !== undefined && { limit: opts.limit }),
        position,
        stats,
      }),
    ).pipe(
      recpipeGraph({
        recommender,
        history,
        features,
        topK: opts.topK,
        dedupeCapacity: opts.dedupeCapacity,
        modelVersion: `${recommender.name}@replay`,
        ...(learn && { learn }),
      }),
      tap((batch) => {
        sink.write(batch);
        progress.update(stats.records, rate());
      }),
      defaultIfEmpty(undefined),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  progress.finish(stats.records, rate());

  const summary: ReplaySummary = {
    events: stats.records,
    valid: sink.messages - sink.deadLetters,
    dead_letter: sink.deadLetters,
    filtered: stats.filtered,
    duplicates: sink.duplicates,
    unique_events: sink.valid,
    users_served: sink.latestRecommendations.size,
    late_feature_events: sink.lateFeatureEvents,
    seconds: round(seconds, 3),
    events_per_s: Math.round(stats.records / Math.max(seconds, 1e-9)),
    model: recommender.name,
    dead_letter_reasons: Object.fromEntries(sink.deadLetterReasons),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (evaluator) {
    const s = evaluator.summary();
    summary.evaluated = s.evaluated;
    summary[`hr_at_${opts.k}`] = round(s.hr, 5);
    summary[`ndcg_at_${opts.k}`] = round(s.ndcg, 5);
    summary.series = evaluator.series().map((p) => [p.ts, round(p.hr, 5)]);
    summary.series_window = SERIES_WINDOW;
  }
  return { summary, sink };
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** Evaluated events per learning-curve point; the benchmark plots compare at this resolution. */
const SERIES_WINDOW = 5000;
