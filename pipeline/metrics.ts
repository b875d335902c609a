import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
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
      help: 'High watermark minus position',
      labelNames: ['topic', 'partition'],
      ...r,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
