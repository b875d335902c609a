import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GraphBatch } from '../operators/types.js';
import { reasonCode } from '../sinks/types.js';

/** Every metric the job exposes on /metrics; names are a public contract for dashboards. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'recpipe_process_' });
  const r = { registers: [registry] };
  return {
    registry,
    messagesIn: new Counter({
      name: 'recpipe_messages_in_total',
      help: 'Messages read from the source',
      labelNames: ['topic'],
      ...r,
    }),
    eventsValid: new Counter({
      name: 'recpipe_events_valid_total',
      help: 'Events accepted after validation and dedupe',
      ...r,
    }),
    duplicates: new Counter({
      name: 'recpipe_events_duplicate_total',
      help: 'Events dropped as repeats of an event_id',
      ...r,
    }),
    deadLetters: new Counter({
      name: 'recpipe_dead_letters_total',
      help: 'Messages sent to the dead-letter topic',
      labelNames: ['reason'],
      ...r,
    }),
    recommendations: new Counter({
      name: 'recpipe_recommendations_served_total',
      help: 'User recommendation lists written to Redis',
      ...r,
    }),
    batchesCommitted: new Counter({
      name: 'recpipe_batches_committed_total',
      help: 'Batches whose offsets were committed',
      ...r,
    }),
    sinkSeconds: new Histogram({
      name: 'recpipe_sink_write_seconds',
      help: 'Time until a sink acknowledged one batch',
      labelNames: ['sink'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      ...r,
    }),
    sinkErrors: new Counter({
      name: 'recpipe_sink_errors_total',
      help: 'Failed sink writes (retried)',
      labelNames: ['sink'],
      ...r,
    }),
    sinkRejectedRows: new Counter({
      name: 'recpipe_sink_rejected_rows_total',
      help: 'Rows a store refused for their content (dead-lettered as sink_rejected, not retried)',
      labelNames: ['sink'],
      ...r,
    }),
    sinkBatchSize: new Histogram({
      name: 'recpipe_sink_batch_rows',
      help: 'Rows per sink write',
      labelNames: ['sink'],
      buckets: [1, 10, 50, 100, 250, 500, 1000, 5000],
      ...r,
    }),
    endToEndSeconds: new Histogram({
      name: 'recpipe_end_to_end_latency_seconds',
      help: 'From event time to sink acknowledgement (includes producer lag)',
      // Finer between 5 s and 2 min, where a loaded job's p99 lives (a quantile is only as
      // precise as the bucket it falls in).
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 7.5, 10, 15, 20, 30, 60, 120, 300],
      ...r,
    }),
    servingSeconds: new Histogram({
      name: 'recpipe_serving_latency_seconds',
      help: 'From event time to the served list and features acknowledged by Redis',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      ...r,
    }),
    eventLoopLag: new Histogram({
      name: 'recpipe_event_loop_lag_seconds',
      help: 'Longest event-loop delay in each second (how long the job could not react)',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5],
      ...r,
    }),
    eventLoopLagMax: new Gauge({
      name: 'recpipe_event_loop_lag_max_seconds',
      help: 'Longest event-loop delay in the last second',
      ...r,
    }),
    freshnessSeconds: new Histogram({
      name: 'recpipe_processing_latency_seconds',
      help: 'From reading a batch off Kafka to its commit',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      ...r,
    }),
    inFlightBatches: new Gauge({
      name: 'recpipe_in_flight_batches',
      help: 'Batches read but not yet committed',
      ...r,
    }),
    consumerLag: new Gauge({
      name: 'recpipe_consumer_lag',
      help: "Messages not committed yet: the partition's high watermark minus the group's committed offset",
      labelNames: ['topic', 'partition'],
      ...r,
    }),
    consumerCommitted: new Gauge({
      name: 'recpipe_consumer_committed_offset',
      help: 'The next offset the group will read (last committed); -1 before the first commit',
      labelNames: ['topic', 'partition'],
      ...r,
    }),
    consumerHighWatermark: new Gauge({
      name: 'recpipe_consumer_high_watermark',
      help: 'The next offset to be written to the partition (log end)',
      labelNames: ['topic', 'partition'],
      ...r,
    }),
    lagPollErrors: new Counter({
      name: 'recpipe_consumer_lag_poll_errors_total',
      help: 'Lag polls that failed (broker unreachable); the lag gauges keep their last value',
      ...r,
    }),
    dependencyUp: new Gauge({
      name: 'recpipe_dependency_up',
      help: '1 when the dependency answered its last health probe, else 0',
      labelNames: ['dependency'],
      ...r,
    }),
    modelHitRate: new Gauge({
      name: 'recpipe_model_hit_rate',
      help: 'Prequential HR@K (test, then train) over the last evaluated events of the sliding window',
      labelNames: ['model', 'k'],
      ...r,
    }),
    modelNdcg: new Gauge({
      name: 'recpipe_model_ndcg',
      help: 'Prequential NDCG@K over the same sliding window',
      labelNames: ['model', 'k'],
      ...r,
    }),
    modelEvaluated: new Counter({
      name: 'recpipe_model_evaluated_total',
      help: 'Events the online evaluator tested (purchases and carts of known users, new items)',
      labelNames: ['model'],
      ...r,
    }),
    modelHits: new Counter({
      name: 'recpipe_model_hits_total',
      help: "Evaluated events whose item was in the user's top K before the model learned it",
      labelNames: ['model'],
      ...r,
    }),
    pushDecisions: new Counter({
      name: 'recpipe_push_decisions_total',
      help: 'Push decisions by trigger and outcome (sent, deferred, suppressed)',
      labelNames: ['trigger', 'decision'],
      ...r,
    }),
    pushFeedback: new Counter({
      name: 'recpipe_push_feedback_total',
      help: 'push_open and push_click events by the trigger of the push (props.trigger); with recpipe_push_decisions_total{decision="sent"} this gives open and click rates per trigger',
      labelNames: ['trigger', 'type'],
      ...r,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** For the push stage: one increment per decision, labelled as ClickHouse stores it. */
export function countPushDecisions(
  metrics: Metrics,
  decisions: readonly { readonly trigger: string; readonly decision: string }[],
): void {
  for (const d of decisions)
    metrics.pushDecisions.inc({ trigger: d.trigger, decision: d.decision });
}

/**
 * For push feedback: one increment per push_open / push_click event, labelled with the trigger
 * named in its props. Labels come from client input, so anything but a known trigger is `unknown`.
 */
export function countPushFeedback(
  metrics: Metrics,
  events: readonly {
    readonly type: string;
    readonly props?: Readonly<Record<string, unknown>>;
  }[],
  triggers: readonly string[],
): void {
  for (const e of events) {
    if (e.type !== 'push_open' && e.type !== 'push_click') continue;
    const t = e.props?.trigger;
    const trigger = typeof t === 'string' && triggers.includes(t) ? t : 'unknown';
    metrics.pushFeedback.inc({ trigger, type: e.type });
  }
}

/** What the commit-time metrics need of a batch, kept as numbers while it waits to commit. */
export interface BatchSummary {
  readonly valid: number;
  readonly duplicates: number;
  /** Analytics rows (events, dead letters, lists), for the sink batch-size histogram. */
  readonly rows: number;
  readonly recommendations: number;
  readonly deadLetterCodes: readonly string[];
  readonly pushes: readonly { readonly trigger: string; readonly decision: string }[];
  readonly feedback: readonly {
    readonly type: string;
    readonly props?: Readonly<Record<string, unknown>>;
  }[];
  /** Event times of the accepted events (the latency histograms). */
  readonly eventTs: Float64Array;
}

export function summarizeBatch(b: GraphBatch): BatchSummary {
  const eventTs = new Float64Array(b.events.length);
  const feedback: BatchSummary['feedback'][number][] = [];
  for (let i = 0; i < b.events.length; i++) {
    const e = (b.events[i] as GraphBatch['events'][number]).event;
    eventTs[i] = e.ts;
    if (e.type === 'push_open' || e.type === 'push_click') feedback.push(e);
  }
  return {
    valid: b.events.length,
    duplicates: b.duplicates,
    rows: b.events.length + b.deadLetters.length + b.recommendations.length,
    recommendations: b.recommendations.length,
    deadLetterCodes: b.deadLetters.map((d) => reasonCode(d.reason)),
    pushes: b.pushes ?? [],
    feedback,
    eventTs,
  };
}

/** The counters and latencies of a committed batch; `readAt` is when it was read off Kafka. */
export function observeCommitted(
  metrics: Metrics,
  s: BatchSummary,
  readAt: number,
  triggers: readonly string[],
): void {
  const now = Date.now();
  metrics.eventsValid.inc(s.valid);
  metrics.duplicates.inc(s.duplicates);
  for (const code of s.deadLetterCodes) metrics.deadLetters.inc({ reason: code });
  metrics.recommendations.inc(s.recommendations);
  countPushDecisions(metrics, s.pushes);
  countPushFeedback(metrics, s.feedback, triggers);
  metrics.batchesCommitted.inc();
  metrics.freshnessSeconds.observe((now - readAt) / 1000);
  for (const ts of s.eventTs) metrics.endToEndSeconds.observe(Math.max(0, now - ts) / 1000);
}
