import {
  ClickHouseError,
  ClickHouseLogLevel,
  createClient,
  type ClickHouseClient,
} from '@clickhouse/client';
import { Readable } from 'node:stream';
import type { Config } from '../config/schema.js';
import { readPem, redactUrl } from './security.js';
import { yieldToEventLoop } from '../pipeline/runtime/event-loop.js';
import type { DeadLetter, ServedRecommendation } from '../records/index.js';
import {
  MIGRATIONS,
  TABLES,
  bootstrapStatements,
  quoteIdent,
  toDateTime,
} from './clickhouse-schema.js';
import {
  ANALYTICS_TABLES,
  type AnalyticsTable,
  DEAD_LETTER_COLUMNS,
  EVENT_COLUMNS,
  FEATURE_COLUMNS,
  MODEL_METRIC_COLUMNS,
  PUSH_DECISION_COLUMNS,
  PUSH_OUTCOME_COLUMNS,
  RECOMMENDATION_COLUMNS,
  SERVED_FEATURE_COLUMNS,
  encodeDeadLetters,
  encodeEvents,
  encodeFeatureSets,
  latestFeatureSets,
  encodeModelMetrics,
  encodePushDecisions,
  encodePushOutcomes,
  encodeRecommendations,
  encodeServedFeatures,
} from './clickhouse-rows.js';
import type { FeatureSet, ModelMetric, PushDecision, PushOutcome, StoredEvent } from './types.js';

export interface ClickHouseSink {
  /** Creates the database and tables when missing and applies pending migrations; idempotent. */
  migrate(): Promise<{ applied: number[] }>;
  insertEvents(rows: readonly StoredEvent[]): Promise<void>;
  insertDeadLetters(rows: readonly DeadLetter[]): Promise<void>;
  insertRecommendations(rows: readonly ServedRecommendation[]): Promise<void>;
  /** The non-zero values of each window's newest computation (a missing feature is 0). */
  insertFeatures(sets: readonly FeatureSet[]): Promise<void>;
  /** Rows already encoded as JSONEachRow text (encodeAnalytics), one request. */
  insertText(table: AnalyticsTable, text: string): Promise<void>;
  insertPushDecisions(rows: readonly PushDecision[]): Promise<void>;
  insertPushOutcomes(rows: readonly PushOutcome[]): Promise<void>;
  insertModelMetrics(rows: readonly ModelMetric[]): Promise<void>;
  /**
   * Runs a read-only query and returns its rows (JSONEachRow: 64-bit integers come back as
   * strings). No query parameters: 18.16 does not know them, so callers inline trusted values.
   */
  query<T>(sql: string): Promise<T[]>;
  /** Resolves when the server answers; rejects with the reason otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly database: string;
}

export interface ClickHouseSinkOptions {
  /** Overrides cfg.clickhouse.database (tests use a throwaway database per run). */
  database?: string;
  /** Attempts per insert on network errors; safe because every table deduplicates. Default 3. */
  attempts?: number;
}

/** TLS for an https:// url with a private CA (and a client certificate for mutual TLS). */
export function clickHouseTls(cfg: Config): {
  tls?: { ca_cert: Buffer; cert?: Buffer; key?: Buffer };
} {
  const t = cfg.clickhouse.tls;
  if (!t.caFile) {
    if (t.certFile || t.keyFile)
      throw new Error('clickhouse.tls.certFile/keyFile need clickhouse.tls.caFile as well');
    return {};
  }
  const ca_cert = readPem(t.caFile, 'clickhouse.tls.caFile');
  if (t.certFile && t.keyFile) {
    return {
      tls: {
        ca_cert,
        cert: readPem(t.certFile, 'clickhouse.tls.certFile'),
        key: readPem(t.keyFile, 'clickhouse.tls.keyFile'),
      },
    };
  }
  return { tls: { ca_cert } };
}

/** Feature windows encoded per event-loop turn (25-60 ms of work each, GC included, in a soak). */
const FEATURE_SETS_PER_TURN = 1_000;

/** 44: column already exists (18.16 and current); 57: table already exists. */
const ALREADY_EXISTS_CODES = new Set(['44', '57']);

export function createClickHouseSink(
  cfg: Config,
  opts: ClickHouseSinkOptions = {},
): ClickHouseSink {
  const db = opts.database ?? cfg.clickhouse.database;
  const d = quoteIdent(db);
  const attempts = Math.max(1, opts.attempts ?? 3);
  const client: ClickHouseClient = createClient({
    url: cfg.clickhouse.url,
    username: cfg.clickhouse.username,
    password: cfg.clickhouse.password,
    application: 'recpipe',
    ...clickHouseTls(cfg),
    // Our callers log the errors we reject with; the client's own logger would print them twice.
    log: { level: ClickHouseLogLevel.OFF },
    // Rows arrive as ready JSONEachRow text (clickhouse-rows.ts); only other values get encoded.
    json: {
      parse: JSON.parse,
      stringify: (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v)),
    },
  });

  const retrying = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        // A server-side error (bad SQL, unknown column) fails the same way every time.
        if (err instanceof ClickHouseError || attempt >= attempts) {
          throw new Error(`ClickHouse ${what} failed: ${(err as Error).message}`, { cause: err });
        }
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  };

  /**
   * Sends ready JSONEachRow text as the body of an INSERT. Not client.insert(): it appends a
   * newline to each value, and Node's HTTP layer then flattened that two-part string, a copy of
   * every body on the JS heap (6.6 % of all bytes allocated in a drain; peak RSS 6-12 % lower
   * without it, BENCHMARKS.md). The text itself stays a string: as bytes (Buffer.from, then a
   * concat per flush) the drain's RSS fell by a quarter but it cost 15 % more CPU.
   */
  const insertBody = async (
    table: string,
    columns: readonly string[],
    body: string,
  ): Promise<void> => {
    // Naming the columns lets this code keep writing after a later migration adds columns.
    // Quoted because some (partition, offset, key) are keywords to one parser or another.
    const named = columns.map((c) => `\`${c}\``).join(', ');
    const query = `INSERT INTO ${d}.${table} (${named}) FORMAT JSONEachRow`;
    await retrying(`insert into ${db}.${table}`, async () => {
      const r = await client.exec({ query, values: Readable.from([body]) });
      // The answer is empty; reading it to the end returns the socket to the pool.
      for await (const chunk of r.stream) void chunk;
    });
  };

  /** Encodes `rows` with `encode` (JSONEachRow lines) and inserts them in one request. */
  const insert = async <T>(
    table: string,
    columns: readonly string[],
    rows: readonly T[],
    encode: (rows: readonly T[], out: string[]) => void,
  ): Promise<void> => {
    if (rows.length === 0) return;
    const lines: string[] = [];
    encode(rows, lines);
    if (lines.length === 0) return;
    await insertBody(table, columns, lines.join('\n'));
  };

  const command = (sql: string): Promise<unknown> =>
    retrying(`DDL ${sql.split('(')[0].trim()}`, () => client.command({ query: sql }));

  // Instances of one group start together and migrate the same database at once: 18.16 has no
  // ADD COLUMN IF NOT EXISTS, and even IF NOT EXISTS checks race on it. Losing that race means
  // another instance already made the change, which is all a migration wants.
  const raced = async (sql: string): Promise<void> => {
    try {
      await command(sql);
    } catch (err) {
      // The client parses 18.16's error text into a plain Error, so the code is read from it.
      const cause = (err as Error).cause;
      const message = cause instanceof Error ? cause.message : '';
      const code =
        cause instanceof ClickHouseError ? cause.code : (/^Code: (\d+)/.exec(message)?.[1] ?? '');
      if (!ALREADY_EXISTS_CODES.has(code) || !/already exists/i.test(message)) throw err;
    }
  };

  const query = async <T>(sql: string): Promise<T[]> =>
    retrying('query', async () => {
      const rs = await client.query({ query: sql, format: 'JSONEachRow' });
      return rs.json<T>();
    });

  return {
    database: db,

    async migrate() {
      for (const s of bootstrapStatements(db)) await command(s);
      const done = new Set(
        (
          await query<{ version: number }>(
            `SELECT version FROM ${d}.${TABLES.schemaMigrations} FINAL`,
          )
        ).map((r) => Number(r.version)),
      );
      const applied: number[] = [];
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        for (const c of m.addColumns ?? []) {
          const have = await query<{ n: string }>(
            `SELECT count() AS n FROM system.columns WHERE database = '${db}' AND table = '${c.table}' AND name = '${c.column}'`,
          );
          if (Number(have[0]?.n ?? 0) === 0)
            await raced(
              `ALTER TABLE ${d}.${quoteIdent(c.table)} ADD COLUMN ${quoteIdent(c.column)} ${c.type}`,
            );
        }
        for (const s of m.statements(db)) await raced(s);
        await insert(TABLES.schemaMigrations, ['version', 'name', 'applied_at'], [m], (ms, out) => {
          for (const x of ms)
            out.push(
              JSON.stringify({
                version: x.version,
                name: x.name,
                applied_at: toDateTime(Date.now()),
              }),
            );
        });
        applied.push(m.version);
      }
      return { applied };
    },

    insertEvents(rows) {
      const now = Date.now();
      return insert(TABLES.events, EVENT_COLUMNS, rows, (r, out) => encodeEvents(r, now, out));
    },

    insertDeadLetters(rows) {
      return insert(TABLES.deadLetters, DEAD_LETTER_COLUMNS, rows, encodeDeadLetters);
    },

    async insertRecommendations(rows) {
      await Promise.all([
        insert(TABLES.recommendations, RECOMMENDATION_COLUMNS, rows, encodeRecommendations),
        insert(TABLES.servedFeatures, SERVED_FEATURE_COLUMNS, rows, encodeServedFeatures),
      ]);
    },

    async insertFeatures(rows) {
      // An analytics write carries tens of thousands of windows: encoded a few thousand per
      // turn of the event loop, sent as one insert.
      const sets = latestFeatureSets(rows);
      const lines: string[] = [];
      for (let i = 0; i < sets.length; i += FEATURE_SETS_PER_TURN) {
        if (i > 0) await yieldToEventLoop();
        encodeFeatureSets(sets.slice(i, i + FEATURE_SETS_PER_TURN), lines);
      }
      if (lines.length > 0) await insertBody(TABLES.features, FEATURE_COLUMNS, lines.join('\n'));
    },

    insertPushDecisions(rows) {
      return insert(TABLES.pushNotifications, PUSH_DECISION_COLUMNS, rows, encodePushDecisions);
    },

    insertPushOutcomes(rows) {
      return insert(TABLES.pushOutcomes, PUSH_OUTCOME_COLUMNS, rows, encodePushOutcomes);
    },

    insertText(table, text) {
      if (text === '') return Promise.resolve();
      const t = ANALYTICS_TABLES[table];
      return insertBody(t.table, t.columns, text);
    },

    insertModelMetrics(rows) {
      return insert(TABLES.modelMetrics, MODEL_METRIC_COLUMNS, rows, encodeModelMetrics);
    },

    query,

    async ping() {
      // A SELECT, not /ping: only a query proves the credentials are accepted.
      const r = await client.ping({ select: true });
      if (!r.success) {
        throw new Error(
          `ClickHouse at ${redactUrl(cfg.clickhouse.url)} is not reachable: ${r.error.message}`,
          {
            cause: r.error,
          },
        );
      }
    },

    close: () => client.close(),
  };
}
