import type { ClickEvent, DeadLetter } from '../operators/types.js';

/**
 * An accepted event plus the source position it was read from. Same shape as the graph's
 * `SourcedEvent`, so a batch's events go to ClickHouse without copying.
 */
export interface StoredEvent {
  readonly event: ClickEvent;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** One windowed feature value (models/features/types.ts is the one declaration). */
export type { FeatureRow, FeatureSet } from '../models/features/types.js';

export type PushDecisionKind = 'sent' | 'deferred' | 'suppressed';

/** One decision of the push policy (CONTRACT §4 `push_notifications`). */
export interface PushDecision {
  readonly userId: string;
  /** What fired, e.g. `abandoned_cart`, `price_drop`, `back_in_stock`. */
  readonly trigger: string;
  readonly decision: PushDecisionKind;
  readonly reason: string;
  /** Epoch ms. Prefer event time: a replay then rewrites the same row instead of adding one. */
  readonly ts: number;
  readonly items: readonly string[];
  /** Identifies the notification; the same key and decision twice is one row. */
  readonly idempotencyKey: string;
  /** The message body as sent (JSON text), when there is one. */
  readonly payload?: string;
  /** CONTRACT §5: = idempotencyKey. */
  readonly pushId: string;
  /** `push`, `email`, `sms`, `in_app`; '' only when the user consented to no channel. */
  readonly channel: string;
  readonly variant: string;
  /** P(channel and variant) under the policy; `variantPropensity` = P(variant) alone. */
  readonly propensity: number;
  readonly variantPropensity: number;
  /** Epoch ms the push is (or would have been) delivered at. */
  readonly scheduledFor: number;
  readonly holdout: boolean;
  /** Predicted open probability and incremental conversion probability. */
  readonly pOpen: number;
  readonly uplift: number;
  readonly locale: string;
}

/** An attributed open, click or purchase of a push (ClickHouse `push_outcomes`). */
export interface PushOutcome {
  readonly pushId: string;
  readonly userId: string;
  readonly kind: 'open' | 'click' | 'purchase';
  readonly ts: number;
  readonly eventId: string;
  readonly itemId: string;
  readonly trigger: string;
  readonly channel: string;
  readonly variant: string;
  readonly holdout: boolean;
  readonly itemMatch: boolean;
  readonly pushTs: number;
}

export interface ModelMetric {
  /** Epoch ms. */
  readonly ts: number;
  readonly model: string;
  readonly metric: string;
  readonly value: number;
}

/** What a sink reports to; pino's Logger fits, and so does the stderr fallback below. */
export interface SinkLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Stdout is reserved for `--json` results (CONTRACT §2), so client libraries that would log to
 * stdout get this instead: warnings and errors as JSON lines on stderr, the rest dropped.
 */
export const stderrLog: SinkLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg, ...obj })}\n`),
  error: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'error', msg, ...obj })}\n`),
};

/**
 * Dead letters can be arbitrarily large (that may be why they are dead); the stores keep the head
 * of the payload and say how big it was. 64 KiB is 4x the largest valid message, enough to debug.
 */
export const DEAD_LETTER_PAYLOAD_LIMIT = 64 * 1024;

export interface TruncatedPayload {
  readonly text: string;
  readonly bytes: number;
  readonly truncated: boolean;
}

export function truncatePayload(
  payload: string,
  limit = DEAD_LETTER_PAYLOAD_LIMIT,
): TruncatedPayload {
  const bytes = Buffer.byteLength(payload);
  if (bytes <= limit) return { text: payload, bytes, truncated: false };
  // Cut on bytes, then drop a trailing partial UTF-8 sequence so the text stays valid.
  const head = Buffer.from(payload)
    .subarray(0, limit)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return { text: head, bytes, truncated: true };
}

/** The reason code: the part before ':' (see DeadLetter.reason). */
export const reasonCode = (reason: string): string => {
  const i = reason.indexOf(':');
  return (i < 0 ? reason : reason.slice(0, i)).trim();
};

/** The DLQ topic's message for a dead letter: JSON value plus a `reason` header (CONTRACT §4). */
export function deadLetterMessage(d: DeadLetter): {
  key?: string;
  value: string;
  headers: Record<string, string>;
} {
  const p = truncatePayload(d.payload);
  const value = JSON.stringify({
    reason: d.reason,
    topic: d.topic,
    partition: d.partition,
    offset: d.offset,
    ...(d.key !== undefined && { key: d.key }),
    payload: p.text,
    ...(p.truncated && { payload_truncated: true, payload_bytes: p.bytes }),
    received_at: d.receivedAt,
  });
  return {
    ...(d.key !== undefined && { key: d.key }),
    value,
    headers: {
      // The code only (like the metric label and the `run` job's DLQ), so consumers can route on
      // a small fixed set; the full text is in the value.
      reason: reasonCode(d.reason),
      'source-topic': d.topic,
      'source-partition': String(d.partition),
      'source-offset': String(d.offset),
    },
  };
}
