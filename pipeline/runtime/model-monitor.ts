import type { ClickEvent } from '../../models/event.js';
import { PrequentialEvaluator } from '../../models/prequential.js';
import type { Recommender } from '../../models/recommender.js';
import type { ModelMetric } from '../../sinks/types.js';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

export interface ModelMonitorOptions {
  readonly k: number;
  /** Evaluated events in the sliding window. */
  readonly window: number;
  /** Users the evaluator remembers (config `limits.users`); default unbounded. */
  readonly maxUsers?: number;
}

export interface WindowedScore {
  readonly evaluated: number;
  readonly hr: number;
  readonly ndcg: number;
}

/**
 * Online model quality for the streaming job: CONTRACT §3's test-then-train protocol (the models'
 * PrequentialEvaluator) run on the live stream, reduced to HR@K and NDCG@K over the last `window`
 * evaluated events, so the figure tracks drift instead of averaging it away since start-up.
 */
export class ModelMonitor {
  private readonly evaluator: PrequentialEvaluator;
  private readonly hits: Uint8Array;
  private readonly gains: Float64Array;
  private next = 0;
  private filled = 0;
  private hitSum = 0;
  private gainSum = 0;
  private pendingEvaluated = 0;
  private pendingHits = 0;
  private lastEvaluated = 0;
  private lastHits = 0;
  private lastDcg = 0;

  constructor(
    private readonly recommender: Recommender,
    private readonly metrics: Metrics,
    readonly opts: ModelMonitorOptions,
  ) {
    // The evaluator's own learning-curve points are not needed here; one window that never
    // closes keeps it from accumulating them for the life of the job.
    this.evaluator = new PrequentialEvaluator(opts.k, {
      window: Number.MAX_SAFE_INTEGER,
      ...(opts.maxUsers !== undefined && { maxUsers: opts.maxUsers }),
    });
    this.hits = new Uint8Array(opts.window);
    this.gains = new Float64Array(opts.window);
  }

  /** Erases a user's evaluation history (right to erasure). */
  forgetUser(userId: string): boolean {
    return this.evaluator.forgetUser(userId);
  }

  /** The graph's `learn`: test (when the event qualifies), then train. */
  readonly learn = (event: ClickEvent): void => {
    this.evaluator.step(event, this.recommender);
    const s = this.evaluator.summary();
    if (s.evaluated === this.lastEvaluated) return;
    const dcg = s.ndcg * s.evaluated;
    this.push(s.hits - this.lastHits, dcg - this.lastDcg);
    this.lastEvaluated = s.evaluated;
    this.lastHits = s.hits;
    this.lastDcg = dcg;
  };

  private push(hit: number, gain: number): void {
    if (this.filled === this.hits.length) {
      this.hitSum -= this.hits[this.next] ?? 0;
      this.gainSum -= this.gains[this.next] ?? 0;
    } else {
      this.filled++;
    }
    this.hits[this.next] = hit;
    this.gains[this.next] = gain;
    this.hitSum += hit;
    this.gainSum += gain;
    this.next = (this.next + 1) % this.hits.length;
    this.pendingEvaluated++;
    this.pendingHits += hit;
  }

  score(): WindowedScore {
    const n = this.filled;
    return {
      evaluated: n,
      hr: n === 0 ? 0 : this.hitSum / n,
      ndcg: n === 0 ? 0 : Math.max(0, this.gainSum) / n,
    };
  }

  /** Moves what was evaluated since the last call into the Prometheus metrics. */
  publish(): void {
    const model = this.recommender.name;
    if (this.pendingEvaluated > 0) {
      this.metrics.modelEvaluated.inc({ model }, this.pendingEvaluated);
      this.metrics.modelHits.inc({ model }, this.pendingHits);
      this.pendingEvaluated = 0;
      this.pendingHits = 0;
    }
    if (this.filled === 0) return;
    const s = this.score();
    const labels = { model, k: String(this.opts.k) };
    this.metrics.modelHitRate.set(labels, s.hr);
    this.metrics.modelNdcg.set(labels, s.ndcg);
  }

  /** Rows for ClickHouse `model_metrics`; none before the first evaluated event. */
  rows(now: number): ModelMetric[] {
    if (this.filled === 0) return [];
    const s = this.score();
    const model = this.recommender.name;
    const k = this.opts.k;
    return [
      { ts: now, model, metric: `hr_at_${k}`, value: s.hr },
      { ts: now, model, metric: `ndcg_at_${k}`, value: s.ndcg },
      { ts: now, model, metric: 'window_evaluated', value: s.evaluated },
      { ts: now, model, metric: 'evaluated_total', value: this.lastEvaluated },
    ];
  }
}

/**
 * Writes the monitor's windowed figures every `monitoring.modelMetricsIntervalMs` (ClickHouse
 * `model_metrics`). A sample of model quality, not a record of every batch: a point lost to an
 * outage is skipped. The returned stop writes one last point.
 */
export function startModelMetricsWriter(
  monitor: ModelMonitor | undefined,
  write: ((rows: readonly ModelMetric[]) => Promise<void>) | undefined,
  cfg: Config,
  log: Pick<Logger, 'warn'>,
): () => Promise<void> {
  const flush = async (): Promise<void> => {
    const rows = monitor?.rows(Date.now()) ?? [];
    if (rows.length === 0 || !write) return;
    await write(rows).catch((err: unknown) =>
      log.warn({ err: (err as Error).message }, 'model metrics not written'),
    );
  };
  const timer = setInterval(() => void flush(), cfg.monitoring.modelMetricsIntervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await flush();
  };
}
