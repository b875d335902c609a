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
  pushOutcomes: 'push_outcomes',
  pushUplift: 'push_uplift',
  pushUpliftTotal: 'push_uplift_total',
  erasures: 'erasures',
  schemaMigrations: 'schema_migrations',
} as const;

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** Each statement is idempotent on its own, so a migration cut short by a crash can rerun. */
  readonly statements: (db: string) => readonly string[];
  /**
   * Columns to add before the statements run. 18.16 has no `ADD COLUMN IF NOT EXISTS`, so the
   * runner adds only those `system.columns` does not list yet, which keeps a rerun idempotent.
   */
  readonly addColumns?: readonly { table: string; column: string; type: string }[];
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
  {
    version: 3,
    name: 'push intelligence: channel, variant, propensity, schedule, holdout; outcomes; uplift',
    addColumns: [
      ['push_id', 'String'],
      ['channel', 'String'],
      ['variant', 'String'],
      ['locale', 'String'],
      ['propensity', 'Float64'],
      ['variant_propensity', 'Float64'],
      ['scheduled_for', 'UInt64'],
      ['holdout', 'UInt8'],
      ['p_open', 'Float64'],
      ['uplift', 'Float64'],
    ].map(([column, type]) => ({
      table: TABLES.pushNotifications,
      column: column as string,
      type: type as string,
    })),
    statements: (db) => {
      const d = quoteIdent(db);
      return [
        // One row per attributed reaction; a replayed event rewrites its row.
        `CREATE TABLE IF NOT EXISTS ${d}.${TABLES.pushOutcomes} (
          push_id String,
          user_id String,
          kind Enum8('open' = 1, 'click' = 2, 'purchase' = 3),
          ts DateTime('UTC'),
          ts_ms UInt64,
          event_id String,
          item_id String,
          trigger String,
          channel String,
          variant String,
          holdout UInt8,
          item_match UInt8,
          push_ts_ms UInt64
        ) ENGINE = ReplacingMergeTree(ts_ms)
        PARTITION BY toYYYYMM(ts)
        ORDER BY (push_id, kind, event_id)`,
        `CREATE VIEW IF NOT EXISTS ${d}.${TABLES.pushUplift} AS ${upliftByTriggerDaySql(db)}`,
        `CREATE VIEW IF NOT EXISTS ${d}.${TABLES.pushUpliftTotal} AS ${upliftTotalSql(db)}`,
      ];
    },
  },
  // Numbered after the issue that added it, so migrations written in parallel cannot collide.
  {
    version: 16,
    name: 'erasure audit',
    // One row per request, no raw id (sinks/clickhouse-erasures.ts): every party that erased for
    // the request adds its part to `removed`; the row with the latest completed_ms has them all.
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${quoteIdent(db)}.${TABLES.erasures} (
        request_id String,
        user_hashes Array(String),
        requested_at DateTime('UTC'),
        requested_ms UInt64,
        completed_ms UInt64,
        removed String
      ) ENGINE = ReplacingMergeTree(completed_ms)
      PARTITION BY toYYYYMM(requested_at)
      ORDER BY request_id`,
    ],
  },
  // Numbered after issue 17. Current ClickHouse (the new analyzer) refuses a JOIN of subqueries
  // that have no alias, which the views of migration 3 had: they are recreated from the aliased
  // SQL. 18.16 has no CREATE OR REPLACE VIEW; each statement is idempotent, so a rerun is safe.
  {
    version: 17,
    name: 'uplift views readable on current ClickHouse',
    statements: (db) => {
      const d = quoteIdent(db);
      return [
        `DROP TABLE IF EXISTS ${d}.${TABLES.pushUplift}`,
        `CREATE VIEW IF NOT EXISTS ${d}.${TABLES.pushUplift} AS ${upliftByTriggerDaySql(db)}`,
        `DROP TABLE IF EXISTS ${d}.${TABLES.pushUpliftTotal}`,
        `CREATE VIEW IF NOT EXISTS ${d}.${TABLES.pushUpliftTotal} AS ${upliftTotalSql(db)}`,
      ];
    },
  },
];

/**
 * Incremental conversions per trigger and day (docs/push.md): the users with a decision row of a
 * trigger on a (UTC) day are that day's eligible users, treated or held out by the `holdout`
 * column; a user converts when they buy anything within 24 h after their first such decision.
 * Uplift = treated rate − holdout rate with a normal-approximation 95 % CI; incremental
 * conversions = uplift × treated users. Intent to treat: a treated user counts whether or not a
 * push was finally sent, like the held-out user it is compared with.
 */
export function upliftByTriggerDaySql(db: string): string {
  const d = quoteIdent(db);
  return `SELECT
  trigger, day,
  toUInt64(sum(holdout = 0)) AS treated_users,
  toUInt64(sumIf(converted, holdout = 0)) AS treated_conversions,
  toUInt64(sum(holdout = 1)) AS holdout_users,
  toUInt64(sumIf(converted, holdout = 1)) AS holdout_conversions,
  treated_conversions / treated_users AS treated_rate,
  if(holdout_users > 0, holdout_conversions / holdout_users, nan) AS holdout_rate,
  treated_rate - holdout_rate AS uplift,
  sqrt(treated_rate * (1 - treated_rate) / treated_users
       + holdout_rate * (1 - holdout_rate) / holdout_users) AS uplift_se,
  uplift - 1.96 * uplift_se AS ci_low,
  uplift + 1.96 * uplift_se AS ci_high,
  uplift * treated_users AS incremental_conversions
FROM (
  SELECT user_id, trigger, day, holdout,
         max(p_ts >= first_ms AND p_ts < first_ms + 86400000) AS converted
  FROM (
    SELECT user_id, trigger, toDate(ts) AS day, max(holdout) AS holdout, min(ts_ms) AS first_ms
    FROM ${d}.${TABLES.pushNotifications} FINAL
    GROUP BY user_id, trigger, day
  ) AS decided
  ALL LEFT JOIN (
    SELECT user_id, ts_ms AS p_ts FROM ${d}.${TABLES.events} FINAL WHERE type = 'purchase'
  ) AS purchases USING user_id
  GROUP BY user_id, trigger, day, holdout
)
GROUP BY trigger, day
ORDER BY trigger, day`;
}

/**
 * The whole period in one figure: eligible users (any decision row), purchases per user after
 * their first decision, treated − holdout, adjusted for exposure (days from the first decision to
 * the newest decision or purchase) by Lin's estimator (a slope per group, centred on the pooled
 * mean exposure), with a 95 % CI. The same arithmetic as `upliftTotal` in push/uplift.ts.
 */
export function upliftTotalSql(db: string): string {
  const d = quoteIdent(db);
  return `SELECT
  treated_users, holdout_users, treated_mean, holdout_mean,
  treated_mean - if(t_sxx > 0, t_sxy / t_sxx, 0) * (t_x - pooled_x) AS treated_adjusted,
  holdout_mean - if(h_sxx > 0, h_sxy / h_sxx, 0) * (h_x - pooled_x) AS holdout_adjusted,
  treated_adjusted - holdout_adjusted AS uplift_per_user,
  sqrt(greatest(0, t_syy - if(t_sxx > 0, t_sxy / t_sxx, 0) * t_sxy) / treated_users
       + greatest(0, h_syy - if(h_sxx > 0, h_sxy / h_sxx, 0) * h_sxy) / holdout_users) AS uplift_se,
  uplift_per_user - 1.96 * uplift_se AS ci_low,
  uplift_per_user + 1.96 * uplift_se AS ci_high,
  uplift_per_user * treated_users AS incremental_conversions
FROM (
  SELECT
    toUInt64(countIf(holdout = 0)) AS treated_users,
    toUInt64(countIf(holdout = 1)) AS holdout_users,
    avgIf(y, holdout = 0) AS treated_mean,
    avgIf(y, holdout = 1) AS holdout_mean,
    avg(x) AS pooled_x,
    avgIf(x, holdout = 0) AS t_x,
    avgIf(x, holdout = 1) AS h_x,
    covarSampIf(y, x, holdout = 0) AS t_sxy,
    varSampIf(x, holdout = 0) AS t_sxx,
    varSampIf(y, holdout = 0) AS t_syy,
    covarSampIf(y, x, holdout = 1) AS h_sxy,
    varSampIf(x, holdout = 1) AS h_sxx,
    varSampIf(y, holdout = 1) AS h_syy
  FROM (
    SELECT user_id, holdout, toFloat64(countIf(p_ts >= first_ms)) AS y,
           (greatest(
              (SELECT max(ts_ms) FROM ${d}.${TABLES.pushNotifications}),
              (SELECT max(ts_ms) FROM ${d}.${TABLES.events} WHERE type = 'purchase'))
            - first_ms) / 86400000 AS x
    FROM (
      SELECT user_id, max(holdout) AS holdout, min(ts_ms) AS first_ms
      FROM ${d}.${TABLES.pushNotifications} FINAL
      GROUP BY user_id
    ) AS decided
    ALL LEFT JOIN (
      SELECT user_id, ts_ms AS p_ts FROM ${d}.${TABLES.events} FINAL WHERE type = 'purchase'
    ) AS purchases USING user_id
    GROUP BY user_id, holdout, first_ms
  )
)`;
}

/**
 * DateTime is seconds in a UInt32, and 18.16's date tables end in 2105 (later values print and
 * partition as garbage). Events may legally be dated up to 2200, so the seconds column is clamped
 * to the end of 2099; the *_ms column always keeps the exact time.
 */
const MAX_DATETIME_S = Date.UTC(2100, 0, 1) / 1000 - 1;

export const toDateTime = (ms: number): number =>
  Math.min(MAX_DATETIME_S, Math.max(0, Math.floor(ms / 1000)));
