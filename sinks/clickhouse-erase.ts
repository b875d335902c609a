import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { Config } from '../config/schema.js';
import { clickHouseTls } from './clickhouse.js';
import { TABLES, quoteIdent } from './clickhouse-schema.js';

/** The statements an erasure needs: reads, and ALTER mutations (which return no rows). */
export interface ClickHouseExec {
  query<T>(sql: string): Promise<T[]>;
  command(sql: string): Promise<void>;
  close(): Promise<void>;
}

export function createClickHouseExec(cfg: Config): ClickHouseExec {
  const client = createClient({
    url: cfg.clickhouse.url,
    username: cfg.clickhouse.username,
    password: cfg.clickhouse.password,
    application: 'recpipe-privacy',
    ...clickHouseTls(cfg),
    log: { level: ClickHouseLogLevel.OFF },
  });
  return {
    async query<T>(sql: string) {
      const rs = await client.query({ query: sql, format: 'JSONEachRow' });
      return rs.json<T>();
    },
    async command(sql) {
      await client.command({ query: sql });
    },
    close: () => client.close(),
  };
}

/**
 * A string literal for ClickHouse SQL (18.16 has no query parameters). Backslash and quote are
 * escaped; ids never contain control characters (they are dead letters, or refused by `forget`).
 */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Per table, the rows that belong to one of `ids` (docs/clickhouse-schema.md, "Erasure"). */
export function erasureConditions(ids: readonly string[]): { table: string; where: string }[] {
  const list = ids.map(sqlString).join(', ');
  const byUser = `user_id IN (${list})`;
  // A dead letter is kept verbatim: its Kafka key is the raw id, and its payload may name the
  // user anywhere (as the JSON string "id"), so any mention counts.
  const mentions = ids.map((id) => `position(payload, ${sqlString(JSON.stringify(id))}) > 0`);
  return [
    { table: TABLES.events, where: byUser },
    { table: TABLES.recommendations, where: byUser },
    { table: TABLES.servedFeatures, where: byUser },
    { table: TABLES.pushNotifications, where: byUser },
    { table: TABLES.pushOutcomes, where: byUser },
    { table: TABLES.features, where: `entity = 'user' AND \`key\` IN (${list})` },
    { table: TABLES.deadLetters, where: `\`key\` IN (${list}) OR ${mentions.join(' OR ')}` },
  ];
}

export interface ClickHouseErasure {
  /** Rows removed per table (counted before the mutation). */
  readonly rows: { table: string; rows: number }[];
  /** Idempotency keys of the user's push decisions: their Redis claims go too. */
  readonly claimKeys: string[];
}

/**
 * Removes the users' rows from every table with `ALTER TABLE … DELETE` (a mutation: on 18.16 and
 * current releases alike it rewrites the affected parts in the background), then waits until a
 * count finds none left, so "completed" means gone, not scheduled. Throws on timeout.
 */
export async function eraseClickHouseUser(
  ch: ClickHouseExec,
  database: string,
  ids: readonly string[],
  timeoutMs: number,
): Promise<ClickHouseErasure> {
  const d = quoteIdent(database);
  const existing = new Set(
    (
      await ch.query<{ name: string }>(
        `SELECT name FROM system.tables WHERE database = ${sqlString(database)}`,
      )
    ).map((r) => r.name),
  );
  const targets = erasureConditions(ids).filter((t) => existing.has(t.table));
  const count = async (t: { table: string; where: string }): Promise<number> => {
    const [r] = await ch.query<{ n: string }>(
      `SELECT count() AS n FROM ${d}.${quoteIdent(t.table)} WHERE ${t.where}`,
    );
    return Number(r?.n ?? 0);
  };
  const claimKeys = existing.has(TABLES.pushNotifications)
    ? (
        await ch.query<{ k: string }>(
          `SELECT DISTINCT idempotency_key AS k FROM ${d}.${TABLES.pushNotifications} WHERE user_id IN (${ids.map(sqlString).join(', ')})`,
        )
      ).map((r) => r.k)
    : [];
  const rows: { table: string; rows: number }[] = [];
  for (const t of targets) {
    const n = await count(t);
    rows.push({ table: t.table, rows: n });
    if (n > 0) await ch.command(`ALTER TABLE ${d}.${quoteIdent(t.table)} DELETE WHERE ${t.where}`);
  }
  const deadline = Date.now() + timeoutMs;
  let left = targets.filter((_, i) => (rows[i]?.rows ?? 0) > 0);
  while (left.length > 0) {
    const counts = await Promise.all(left.map(count));
    left = left.filter((_, i) => (counts[i] ?? 0) > 0);
    if (left.length === 0) break;
    if (Date.now() > deadline)
      throw new Error(
        `ClickHouse erasure: rows still present in ${left.map((t) => t.table).join(', ')} after ${timeoutMs} ms (mutations still running; see system.mutations)`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
  return { rows, claimKeys };
}
