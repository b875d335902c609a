import type { DeadLetter, SourcedEvent } from '../records/index.js';

/** An accepted event plus the source position it was read from (the graph's record, as stored). */
export type StoredEvent = SourcedEvent;

/** One windowed feature value (features/types.ts is the one declaration). */
export type { FeatureRow, FeatureSet } from '../features/types.js';

/** One decision of the push policy, and an attributed reaction (CONTRACT §4/§5). */
export type { PushDecision, PushDecisionKind, PushOutcome } from '../records/index.js';

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
