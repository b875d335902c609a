import type { ClickEvent, ItemEvent, ScoredItem } from '../models/event.js';

/** One input record as the source saw it; `offset` is the source position (Kafka offset or line number). */
export interface RawMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key?: string;
  readonly value: string | Buffer;
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

export type { ClickEvent, ItemEvent, ScoredItem };
