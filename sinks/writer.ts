/**
 * The interfaces the runtime's store stages write through (issue 17: sinks/ owns the sink
 * interface and every adapter). pipeline/runtime/sink-writers.ts implements them over the
 * ClickHouse and Redis sinks; tests substitute their own.
 */
import type { DeadLetter, FeatureSet, GraphBatch } from '../records/index.js';
import type { AnalyticsText } from './clickhouse-rows.js';

/** What an analytics write needs of a served batch: its encoded rows and how many there are. */
export interface AnalyticsRecord {
  readonly text: AnalyticsText;
  readonly summary: { readonly rows: number };
}

/**
 * Writes the serving state of processed batches; resolves once the store acknowledged, with the
 * rows it refused for their content as dead letters (never retried: they fail the same way every
 * time); rejects on outages, which the runtime retries.
 */
export interface ServingWriter {
  readonly name: string;
  write(batches: readonly GraphBatch[]): Promise<readonly DeadLetter[]>;
}

/**
 * Writes the analytics record of served batches and the group's feature values (session closes
 * and the windows the batches changed, FeatureStore.takeChanged). Refused rows as for
 * ServingWriter; `writeDeadLetters` stores the dead letters that came up while writing.
 */
export interface AnalyticsWriter {
  readonly name: string;
  write(served: readonly AnalyticsRecord[], features: readonly FeatureSet[]): Promise<DeadLetter[]>;
  writeDeadLetters(letters: readonly DeadLetter[]): Promise<void>;
}
