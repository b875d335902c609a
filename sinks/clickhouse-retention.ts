import { TABLES, quoteIdent } from './clickhouse-schema.js';
import { sqlString, type ClickHouseExec } from './clickhouse-erase.js';

/**
 * The age condition of each table: the time a row was written where the table records it (so a
 * replay of old events is not dropped the moment it lands), event time otherwise.
 */
export const RETENTION_COLUMNS = {
  events: { table: TABLES.events, older: (ms: number) => `ingested_at < toDateTime(${s(ms)})` },
  dead_letters: { table: TABLES.deadLetters, older: (ms: number) => `received_ms < ${ms}` },
  features: { table: TABLES.features, older: (ms: number) => `ts_ms < ${ms}` },
  recommendations: {
    table: TABLES.recommendations,
    older: (ms: number) => `updated_at_ms < ${ms}`,
  },
  served_features: {
    table: TABLES.servedFeatures,
    older: (ms: number) => `updated_at_ms < ${ms}`,
  },
  push_notifications: { table: TABLES.pushNotifications, older: (ms: number) => `ts_ms < ${ms}` },
  push_outcomes: { table: TABLES.pushOutcomes, older: (ms: number) => `ts_ms < ${ms}` },
  model_metrics: { table: TABLES.modelMetrics, older: (ms: number) => `ts_ms < ${ms}` },
  erasures: { table: TABLES.erasures, older: (ms: number) => `completed_ms < ${ms}` },
} as const;

export type RetentionTable = keyof typeof RETENTION_COLUMNS;

/** Seconds since the epoch (DateTime columns compare with whole seconds). */
function s(ms: number): number {
  return Math.floor(ms / 1000);
}

/**
 * One retention pass: for each table with a retention, counts the rows older than it and, when
 * there are any, deletes them with one `ALTER TABLE … DELETE` mutation (18.16 and current).
 * Returns the rows scheduled for deletion per table; the mutations finish in the background.
 */
export async function applyRetention(
  ch: ClickHouseExec,
  database: string,
  days: Readonly<Record<RetentionTable, number>>,
  now = Date.now(),
): Promise<Map<string, number>> {
  const d = quoteIdent(database);
  const existing = new Set(
    (
      await ch.query<{ name: string }>(
        `SELECT name FROM system.tables WHERE database = ${sqlString(database)}`,
      )
    ).map((r) => r.name),
  );
  const out = new Map<string, number>();
  for (const [name, col] of Object.entries(RETENTION_COLUMNS)) {
    const keep = days[name as RetentionTable];
    if (!(keep > 0) || !existing.has(col.table)) continue;
    const where = col.older(now - keep * 86_400_000);
    const [r] = await ch.query<{ n: string }>(
      `SELECT count() AS n FROM ${d}.${quoteIdent(col.table)} WHERE ${where}`,
    );
    const n = Number(r?.n ?? 0);
    out.set(col.table, n);
    if (n > 0) await ch.command(`ALTER TABLE ${d}.${quoteIdent(col.table)} DELETE WHERE ${where}`);
  }
  return out;
}
