import type { Config } from '../../config/schema.js';
import type { ClickHouseSink } from '../../sinks/clickhouse.js';
import type { PushClaims } from '../../sinks/redis-push-policy.js';
import type { ModelMetric } from '../../sinks/types.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { SnapshotStore } from './model-snapshots.js';
import type { AnalyticsWriter, ServingWriter } from './sink-writers.js';

/*
 * The streaming job seen from outside (run.ts wires it): what it is started with, the handle it
 * returns, and how a drain that ran out of time ends.
 */

export interface RunDependencies {
  readonly cfg: Config;
  readonly topic: string;
  readonly group: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The serving store (Redis), written as soon as a batch is processed. */
  readonly serving: ServingWriter;
  /** The analytics store (ClickHouse), written in bulk behind serving. */
  readonly analytics: AnalyticsWriter;
  /** Loads persisted purchase history for users not seen yet by this process. */
  readonly loadHistory: (userIds: readonly string[]) => Promise<Map<string, Set<string>>>;
  /** Where the windowed online model metrics go (ClickHouse `model_metrics`); optional. */
  readonly writeModelMetrics?: (rows: readonly ModelMetric[]) => Promise<void>;
  /** Cross-instance push claims; by default Redis at cfg.redis (sinks/redis-push-policy.ts). */
  readonly pushClaims?: PushClaims;
  /** Where model snapshots live, so a restarted job does not start cold; optional. */
  readonly snapshots?: SnapshotStore;
  /** Served lists and events for the nearline ranker trainer (model `ranked`); optional. */
  readonly clickhouse?: Pick<ClickHouseSink, 'query' | 'database'>;
}
export type { SnapshotStore } from './model-snapshots.js';

export interface RunningJob {
  /** Stops consuming, drains and commits what is in flight, then disconnects. */
  stop(): Promise<void>;
  /** False once the last commit or lag poll failed (the broker is unreachable). */
  healthy(): boolean;
  readonly done: Promise<void>;
}

/** The drain after stop() ran out of time: uncommitted batches remain (replayed on restart). */
export class DrainTimeoutError extends Error {
  override readonly name = 'DrainTimeoutError';
}
