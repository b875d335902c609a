/**
 * ClickHouse schema of recpipe (CONTRACT §4). Every statement must run unchanged on Debian's
 * ClickHouse 18.16 and on current releases, which rules out DateTime64, JSON, LowCardinality
 * (experimental behind a setting in 18.16), Map, query parameters, lightweight DELETE and
 * `ADD COLUMN IF NOT EXISTS`. Time is a `DateTime('UTC')` for partitioning and humans plus an
 * exact UInt64 epoch-ms column.
 *
 * Dedup is ReplacingMergeTree: rows with the same sorting key collapse during background merges,
 * and only within one partition. So (1) the sorting key is exactly the identity of a row, and
 * (2) a table is partitioned only by a value that is identical when the same row is written again
 * (event time, never wall-clock). Until a merge ran, duplicates are visible: readers that need
 * exact answers use `FINAL` (see docs/clickhouse-schema.md).
 */

export const TABLES = {
  events: 'events',
  deadLetters: 'dead_letters',
  features: 'features',
  recommendations: 'recommendations',
  pushNotifications: 'push_notifications',
  modelMetrics: 'model_metrics',
  servedFeatures: 'served_features',
  schemaMigrations: 'schema_migrations',
} as const;

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** Each statement is idempotent on its own, so a migration cut short by a crash can rerun. */
  readonly statements: (db: string) => readonly string[];
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Database names end up inside DDL text; anything but a plain identifier is refused outright. */
export function quoteIdent(name: string): string {
  if (!IDENT.test(name)) throw new Error(`invalid ClickHouse identifier ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

export const bootstrapStatements = (db: string): readonly string[] => [
  `CREATE DATABASE IF NOT EXISTS ${quoteIdent(db)}`,
  `CREATE TABLE IF NOT EXISTS ${quoteIdent(db)}.${TABLES.schemaMigrations} (
    version UInt32,
    name String,
    applied_at DateTime('UTC')
  ) ENGINE = ReplacingMergeTree ORDER BY version`,
];

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial tables',
    statements: (db) => {
      const d = quoteIdent(db);
      return [
        // One row per accepted event. The identity is event_id alone: with (user_id, event_id)
        // a re-sent event with a different user would survive as a second row.
        `CREATE TABLE IF NOT EXISTS ${d}.${TABLES.events} (
          event_id String,
          ts DateTime('UTC'),
          ts_ms UInt64,
          user_id String,
          item_id String,
          type String,
          session_id String,
          category String,
          price Nullable(Float64),
          quantity Nullable(UInt32),
          props String,
          source_topic String,
          source_partition UInt32,
          source_offset UInt64,
          ingested_at DateTime('UTC')
        ) ENGINE = ReplacingMergeTree
        PARTITION BY toYYYYMM(ts)
        ORDER BY event_id`,
        // received_at is wall-clock and differs on a replay, so it cannot be the partition key;
        // dead letters are few, one partition is fine. Names that are also SQL keywords are quoted:
        // old and new parsers disagree about where a bare keyword may be a column name.
        `CREATE TABLE IF NOT EXISTS ${d}.${TABLES.deadLetters} (
          topic String,
          \`partition\` UInt32,
          \`offset\` UInt64,
          \`key\` String,
          reason_code String,
          reason String,
          payload String,
          payload_bytes UInt32,
          payload_truncated UInt8,
          received_at DateTime('UTC'),
          received_ms UInt64
        ) ENGINE = ReplacingMergeTree(received_ms)
        ORDER BY (topic, \`partition\`, \`offset\`)`,
        `CREATE TABLE IF NOT EXISTS ${d}.${TABLES.features} (
          entity String,
          \`key\` String,
          feature String,
          window_start DateTime('UTC'),
          window_start_ms UInt64,
          window_end_ms UInt64,
          value Float64,
          ts DateTime('UTC'),
          ts_ms UInt64
        ) ENGINE = ReplacingMergeTree(ts_ms)
        PARTITION BY toYYYYMM(window_start)
        ORDER BY (entity, \`key\`, feature, window_start_ms, window_end_ms)`,
        // A refresh is identified by the user, the event that triggered it and the model that
        // answered; a replay of that event rewrites the row (latest updated_at wins).
        `CREATE TABLE IF NOT EXISTS ${d}.${TABLES.recommendations} (
          user_id String,
          event_ts DateTime('UTC'),
          event_ts_ms UInt64,
          model_version String,
          updated_at DateTime('UTC'),
          updated_at_ms UInt64,
          items Array(String),
          scores Array(Float64),
          reasons Array(String)
        ) ENGINE = ReplacingMergeTree(updated_at_ms)
        PARTITION BY toYYYYMM(event_ts)
        ORDER BY (user_id, event_ts_ms, model_version)`,
        // One row per decision: a notification deferred and later sent has two rows; the same
        // decision for the same idempotency key twice (a replay) is one.
        `CREATE TABLE IF NOT EXISTS ${d}.${TABLES.pushNotifications} (
          idempotency_key String,
          user_id String,
          trigger String,
          decision Enum8('sent' = 1, 'deferred' = 2, 'suppressed' = 3),
          reason String,
          ts DateTime('UTC'),
          ts_ms UInt64,
          items Array(String),
          payload String
        ) ENGINE = ReplacingMergeTree(ts_ms)
        ORDER BY (idempotency_key, decision)`,
        `CREATE TABLE IF NOT EXISTS ${d}.${TABLES.modelMetrics} (
          ts DateTime('UTC'),
          ts_ms UInt64,
          model String,
          metric String,
          value Float64
        ) ENGINE = ReplacingMergeTree
        PARTITION BY toYYYYMM(ts)
        ORDER BY (model, metric, ts_ms)`,
      ];
    },
  },
  {
    version: 2,
    name: 'served feature vectors',
    statements: (db) => [
      // The ranker's input for each served item, so the nearline trainer can join what was shown
      // with what the user did next. Same identity as `recommendations`; items[i] has
      // features[i] (the FEATURES order of models/ranking/model.ts).
      `CREATE TABLE IF NOT EXISTS ${quoteIdent(db)}.${TABLES.servedFeatures} (
        user_id String,
        event_ts DateTime('UTC'),
        event_ts_ms UInt64,
        model_version String,
        updated_at_ms UInt64,
        items Array(String),
        features Array(Array(Float32))
      ) ENGINE = ReplacingMergeTree(updated_at_ms)
      PARTITION BY toYYYYMM(event_ts)
      ORDER BY (user_id, event_ts_ms, model_version)`,
    ],
  },
];

/**
 * DateTime is seconds in a UInt32, and 18.16's date tables end in 2105 (later values print and
 * partition as garbage). Events may legally be dated up to 2200, so the seconds column is clamped
 * to the end of 2099; the *_ms column always keeps the exact time.
 */
const MAX_DATETIME_S = Date.UTC(2100, 0, 1) / 1000 - 1;

export const toDateTime = (ms: number): number =>
  Math.min(MAX_DATETIME_S, Math.max(0, Math.floor(ms / 1000)));
