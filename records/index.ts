/**
 * The records every stage exchanges: what the source reads, what the graph's operators fill in,
 * what the runtimes hand to the sinks and commit. Types only, so operators, sinks and the
 * runtimes can all depend on it without depending on each other (test/unit/layering.test.ts).
 * The domain records themselves (events, scored items, features, pushes) are declared beside the
 * models that produce them and re-exported here.
 */
import type { ClickEvent, ItemEvent, ScoredItem } from '../models/event.js';
import type { FeatureRow, FeatureSet } from '../features/types.js';
import type {
  PreferenceUpdate,
  PushDecision,
  PushDecisionKind,
  PushMessage,
  PushOutcome,
} from '../push/types.js';

/** One input record as the source saw it; `offset` is the source position (Kafka offset or line number). */
export interface RawMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key?: string;
  readonly value: string | Buffer;
  /** Kafka: when the message was appended (producer or broker time, epoch ms). */
  readonly timestamp?: number;
}

/** The next offset to commit per topic-partition once the batch is fully acknowledged. */
export interface CommitPoint {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** Records travel in batches so I/O can be grouped and offsets committed after every sink acked. */
export interface Batch<T> {
  readonly seq: number;
  readonly items: readonly T[];
  readonly commits: readonly CommitPoint[];
  /**
   * Set on an idle tick instead of items: the wall-clock time at which the source had been caught
   * up and quiet for `pipeline.idleAdvanceMs` (event time may follow the clock).
   */
  readonly idleAt?: number;
}

export interface DeadLetter {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key?: string;
  /** The message as received (truncated to the DLQ size limit by the sinks, never here). */
  readonly payload: string;
  /** `code: detail`; the code before ':' is the metric label. */
  readonly reason: string;
  readonly receivedAt: number;
}

export interface ServedRecommendation {
  readonly userId: string;
  readonly items: readonly ScoredItem[];
  readonly modelVersion: string;
  /** Event time of the event that triggered the refresh. */
  readonly eventTs: number;
  readonly updatedAt: number;
}

export type {
  ClickEvent,
  FeatureRow,
  FeatureSet,
  ItemEvent,
  PreferenceUpdate,
  PushDecision,
  PushDecisionKind,
  PushMessage,
  PushOutcome,
  ScoredItem,
};

/** An accepted event with the source position it came from (ClickHouse keeps both). */
export interface SourcedEvent {
  readonly event: ClickEvent;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/**
 * What one input batch becomes as it flows through the graph. Each operator fills in its part;
 * the runtime hands the finished batch to the sinks and commits `commits` once they all acked.
 */
export interface GraphBatch {
  readonly seq: number;
  readonly commits: readonly CommitPoint[];
  readonly messages: number;
  /** An idle tick (Batch.idleAt): no messages; event time advances with the clock. */
  readonly idleAt?: number;
  readonly events: readonly SourcedEvent[];
  /** Catalog updates from the items topic (titles, categories, prices, stock), in order. */
  readonly items: readonly ItemEvent[];
  readonly duplicates: number;
  readonly deadLetters: readonly DeadLetter[];
  readonly recommendations: readonly ServedRecommendation[];
  /** New purchases per user in this batch, persisted so exclusions survive restarts. */
  readonly purchases: ReadonlyMap<string, readonly string[]>;
  /** Feature values whose event-time windows fired in this batch. */
  readonly features: readonly FeatureSet[];
  /** Events too late for every window of some feature family (counted, never silently lost). */
  readonly lateFeatureEvents: number;
  /** Event-time watermark after this batch (max event time − allowed out-of-orderness). */
  readonly watermark: number;
  /**
   * Push decisions of this batch (sent, deferred, suppressed). In `run`, the Redis claim may turn
   * a sent one into suppressed before the sinks see the batch. Absent when pushes are off.
   */
  readonly pushes?: readonly PushDecision[];
  /** The push topic's messages of the sent decisions (the runtime names the topic). */
  readonly pushMessages?: readonly PushMessage[];
  /** Preference messages (topic `preferences`, CONTRACT §5) of this batch, in order. */
  readonly preferences?: readonly PreferenceUpdate[];
  /** Opens, clicks and purchases attributed to pushes (ClickHouse `push_outcomes`). */
  readonly pushOutcomes?: readonly PushOutcome[];
  /** Events of users opted out of personalisation, between withholdOptedOut and restoreWithheld. */
  readonly withheld?: readonly SourcedEvent[];
}
