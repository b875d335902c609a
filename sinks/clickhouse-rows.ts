import type { DeadLetter, ServedRecommendation } from '../records/index.js';
import { toDateTime } from './clickhouse-schema.js';
import { servedListText } from './served-list-text.js';
import {
  reasonCode,
  truncatePayload,
  type FeatureSet,
  type ModelMetric,
  type PushDecision,
  type PushOutcome,
  type StoredEvent,
} from './types.js';

/**
 * JSONEachRow lines built as text, one table at a time. Building a row object per record and
 * letting a generic JSON.stringify walk it cost the job more than the ClickHouse insert itself
 * (issue 11's profile: 7% of the main thread, plus the garbage); here only strings are escaped
 * (JSON.stringify of one string) and numbers are written as they are.
 */
export interface EncodedRows {
  readonly columns: readonly string[];
  readonly lines: string[];
}

const q = JSON.stringify;
/** JSON has no NaN or infinities; ClickHouse reads null as the column default (0) for Float64. */
const num = (x: number): string => (Number.isFinite(x) ? String(x) : 'null');
const numOrNull = (x: number | undefined): string => (x === undefined ? 'null' : num(x));
const strings = (xs: readonly string[]): string => {
  let s = '[';
  for (let i = 0; i < xs.length; i++) s += (i > 0 ? ',' : '') + q(xs[i]);
  return `${s}]`;
};

export const EVENT_COLUMNS = [
  'event_id',
  'ts',
  'ts_ms',
  'user_id',
  'item_id',
  'type',
  'session_id',
  'category',
  'price',
  'quantity',
  'props',
  'source_topic',
  'source_partition',
  'source_offset',
  'ingested_at',
] as const;

/** `props` was serialised once at validation, so a row cannot fail on its own props here. */
export function encodeEvents(rows: readonly StoredEvent[], now: number, out: string[]): void {
  const ingested = toDateTime(now);
  for (const { event: e, topic, partition, offset } of rows) {
    out.push(
      `{"event_id":${q(e.eventId)},"ts":${toDateTime(e.ts)},"ts_ms":${e.ts},"user_id":${q(e.userId)},` +
        `"item_id":${q(e.itemId)},"type":${q(e.type)},"session_id":${q(e.sessionId ?? '')},` +
        `"category":${q(e.category ?? '')},"price":${numOrNull(e.price)},"quantity":${numOrNull(e.quantity)},` +
        `"props":${q(e.propsJson ?? '')},"source_topic":${q(topic)},` +
        `"source_partition":${partition},"source_offset":${offset},"ingested_at":${ingested}}`,
    );
  }
}

export const DEAD_LETTER_COLUMNS = [
  'topic',
  'partition',
  'offset',
  'key',
  'reason_code',
  'reason',
  'payload',
  'payload_bytes',
  'payload_truncated',
  'received_at',
  'received_ms',
] as const;

export function encodeDeadLetters(rows: readonly DeadLetter[], out: string[]): void {
  for (const r of rows) {
    const p = truncatePayload(r.payload);
    out.push(
      `{"topic":${q(r.topic)},"partition":${r.partition},"offset":${r.offset},"key":${q(r.key ?? '')},` +
        `"reason_code":${q(reasonCode(r.reason))},"reason":${q(r.reason)},"payload":${q(p.text)},` +
        `"payload_bytes":${p.bytes},"payload_truncated":${p.truncated ? 1 : 0},` +
        `"received_at":${toDateTime(r.receivedAt)},"received_ms":${r.receivedAt}}`,
    );
  }
}

export const RECOMMENDATION_COLUMNS = [
  'user_id',
  'event_ts',
  'event_ts_ms',
  'model_version',
  'updated_at',
  'updated_at_ms',
  'items',
  'scores',
  'reasons',
] as const;

export function encodeRecommendations(rows: readonly ServedRecommendation[], out: string[]): void {
  for (const r of rows) {
    const head =
      `{"user_id":${q(r.userId)},"event_ts":${toDateTime(r.eventTs)},"event_ts_ms":${r.eventTs},` +
      `"model_version":${q(r.modelVersion)},"updated_at":${toDateTime(r.updatedAt)},` +
      `"updated_at_ms":${r.updatedAt}`;
    const t = servedListText(r);
    if (t !== undefined) {
      out.push(`${head},"items":${t.items},"scores":${t.scores},"reasons":${t.reasons}}`);
      continue;
    }
    let items = '[';
    let scores = '[';
    let reasons = '[';
    for (let i = 0; i < r.items.length; i++) {
      const it = r.items[i] as ServedRecommendation['items'][number];
      const sep = i > 0 ? ',' : '';
      items += sep + q(it.itemId);
      scores += sep + num(it.score);
      reasons += sep + q(it.reason);
    }
    out.push(`${head},"items":${items}],"scores":${scores}],"reasons":${reasons}]}`);
  }
}

export const SERVED_FEATURE_COLUMNS = [
  'user_id',
  'event_ts',
  'event_ts_ms',
  'model_version',
  'updated_at_ms',
  'items',
  'features',
] as const;

/** Lists whose model logged its ranking features (the nearline ranker's training input). */
export function encodeServedFeatures(rows: readonly ServedRecommendation[], out: string[]): void {
  for (const r of rows) {
    if (r.items.length === 0 || !r.items.every((i) => i.features !== undefined)) continue;
    let features = '[';
    for (let i = 0; i < r.items.length; i++) {
      const f = r.items[i]?.features ?? [];
      features += (i > 0 ? ',[' : '[') + f.map(num).join(',') + ']';
    }
    out.push(
      `{"user_id":${q(r.userId)},"event_ts":${toDateTime(r.eventTs)},"event_ts_ms":${r.eventTs},` +
        `"model_version":${q(r.modelVersion)},"updated_at_ms":${r.updatedAt},` +
        `"items":${servedListText(r)?.items ?? strings(r.items.map((i) => i.itemId))},"features":${features}]}`,
    );
  }
}

export const FEATURE_COLUMNS = [
  'entity',
  'key',
  'feature',
  'window_start',
  'window_start_ms',
  'window_end_ms',
  'value',
  'ts',
  'ts_ms',
] as const;

/**
 * One row per non-zero value of the newest computation of each window in `sets` (a hot key is
 * touched by many batches of one write). A window's missing feature is 0: zero counts are most
 * of the values and carry nothing a reader cannot infer.
 */
export function encodeFeatures(sets: readonly FeatureSet[], out: string[]): void {
  encodeFeatureSets(latestFeatureSets(sets), out);
}

/** The newest computation of each window in `sets`, and every unwindowed state set. */
export function latestFeatureSets(sets: readonly FeatureSet[]): FeatureSet[] {
  const latest = new Map<string, FeatureSet>();
  for (const s of sets) {
    const id = `${s.entity}\u0000${s.family}\u0000${s.windowStart}\u0000${s.windowEnd}\u0000${s.key}`;
    const prev = latest.get(id);
    // unwindowed state sets carry different fields each time: every one is kept
    if (prev === undefined || s.family === 'user_state' || s.ts >= prev.ts)
      latest.set(s.family === 'user_state' ? `${id}\u0000${latest.size}` : id, s);
  }
  return [...latest.values()];
}

/** The rows of sets already reduced by latestFeatureSets (a caller may encode them in parts). */
export function encodeFeatureSets(sets: readonly FeatureSet[], out: string[]): void {
  for (const s of sets) {
    const head = `{"entity":"${s.entity}","key":${q(s.key)},"feature":`;
    const mid =
      `,"window_start":${toDateTime(s.windowStart)},"window_start_ms":${s.windowStart},` +
      `"window_end_ms":${s.windowEnd},"value":`;
    const tail = `,"ts":${toDateTime(s.ts)},"ts_ms":${s.ts}}`;
    for (let i = 0; i < s.names.length; i++) {
      const v = s.values[i] as number;
      if (v === 0) continue;
      out.push(head + q(s.names[i]) + mid + num(v) + tail);
    }
  }
}

export const PUSH_DECISION_COLUMNS = [
  'idempotency_key',
  'user_id',
  'trigger',
  'decision',
  'reason',
  'ts',
  'ts_ms',
  'items',
  'payload',
  'push_id',
  'channel',
  'variant',
  'locale',
  'propensity',
  'variant_propensity',
  'scheduled_for',
  'holdout',
  'p_open',
  'uplift',
] as const;

export function encodePushDecisions(rows: readonly PushDecision[], out: string[]): void {
  for (const r of rows) {
    out.push(
      `{"idempotency_key":${q(r.idempotencyKey)},"user_id":${q(r.userId)},"trigger":${q(r.trigger)},` +
        `"decision":${q(r.decision)},"reason":${q(r.reason)},"ts":${toDateTime(r.ts)},"ts_ms":${r.ts},` +
        `"items":${strings(r.items)},"payload":${q(r.payload ?? '')},"push_id":${q(r.pushId)},` +
        `"channel":${q(r.channel)},"variant":${q(r.variant)},"locale":${q(r.locale)},` +
        `"propensity":${num(r.propensity)},"variant_propensity":${num(r.variantPropensity)},` +
        `"scheduled_for":${num(r.scheduledFor)},"holdout":${r.holdout ? 1 : 0},` +
        `"p_open":${num(r.pOpen)},"uplift":${num(r.uplift)}}`,
    );
  }
}

export const PUSH_OUTCOME_COLUMNS = [
  'push_id',
  'user_id',
  'kind',
  'ts',
  'ts_ms',
  'event_id',
  'item_id',
  'trigger',
  'channel',
  'variant',
  'holdout',
  'item_match',
  'push_ts_ms',
] as const;

export function encodePushOutcomes(rows: readonly PushOutcome[], out: string[]): void {
  for (const r of rows) {
    out.push(
      `{"push_id":${q(r.pushId)},"user_id":${q(r.userId)},"kind":${q(r.kind)},` +
        `"ts":${toDateTime(r.ts)},"ts_ms":${r.ts},"event_id":${q(r.eventId)},"item_id":${q(r.itemId)},` +
        `"trigger":${q(r.trigger)},"channel":${q(r.channel)},"variant":${q(r.variant)},` +
        `"holdout":${r.holdout ? 1 : 0},"item_match":${r.itemMatch ? 1 : 0},"push_ts_ms":${r.pushTs}}`,
    );
  }
}

export const MODEL_METRIC_COLUMNS = ['ts', 'ts_ms', 'model', 'metric', 'value'] as const;

export function encodeModelMetrics(rows: readonly ModelMetric[], out: string[]): void {
  for (const r of rows) {
    out.push(
      `{"ts":${toDateTime(r.ts)},"ts_ms":${r.ts},"model":${q(r.model)},"metric":${q(r.metric)},"value":${num(r.value)}}`,
    );
  }
}

/** The analytics tables one batch writes, as JSONEachRow text ('' when it has no rows). */
export interface AnalyticsText {
  readonly events: string;
  readonly deadLetters: string;
  readonly recommendations: string;
  readonly servedFeatures: string;
  readonly pushes: string;
  readonly pushOutcomes: string;
}

export type AnalyticsTable = keyof AnalyticsText;

/**
 * Encodes a processed batch's analytics rows right after it is served: text is compact and its
 * records (lists, events) can die young instead of waiting in the analytics lane for a second,
 * which would promote them to the old generation and grow the heap with the rate.
 */
export function encodeAnalytics(
  b: {
    readonly events: readonly StoredEvent[];
    readonly deadLetters: readonly DeadLetter[];
    readonly recommendations: readonly ServedRecommendation[];
    readonly pushes?: readonly PushDecision[];
    readonly pushOutcomes?: readonly PushOutcome[];
  },
  now: number,
): AnalyticsText {
  const text = <T>(rows: readonly T[], encode: (rows: readonly T[], out: string[]) => void) => {
    if (rows.length === 0) return '';
    const out: string[] = [];
    encode(rows, out);
    return out.join('\n');
  };
  return {
    events: text(b.events, (r, out) => encodeEvents(r, now, out)),
    deadLetters: text(b.deadLetters, encodeDeadLetters),
    recommendations: text(b.recommendations, encodeRecommendations),
    servedFeatures: text(b.recommendations, encodeServedFeatures),
    pushes: text(b.pushes ?? [], encodePushDecisions),
    pushOutcomes: text(b.pushOutcomes ?? [], encodePushOutcomes),
  };
}

/** Per analytics table: its ClickHouse table and columns. */
export const ANALYTICS_TABLES: Readonly<
  Record<AnalyticsTable, { readonly table: string; readonly columns: readonly string[] }>
> = {
  events: { table: 'events', columns: EVENT_COLUMNS },
  deadLetters: { table: 'dead_letters', columns: DEAD_LETTER_COLUMNS },
  recommendations: { table: 'recommendations', columns: RECOMMENDATION_COLUMNS },
  servedFeatures: { table: 'served_features', columns: SERVED_FEATURE_COLUMNS },
  pushes: { table: 'push_notifications', columns: PUSH_DECISION_COLUMNS },
  pushOutcomes: { table: 'push_outcomes', columns: PUSH_OUTCOME_COLUMNS },
};
