import { TABLES, quoteIdent, toDateTime } from './clickhouse-schema.js';
import { sqlString, type ClickHouseExec } from './clickhouse-erase.js';

export interface ErasureRecord {
  readonly requestId: string;
  /** Keyed hashes of the erased ids (pipeline/privacy/ids.ts auditHasher). */
  readonly userHashes: readonly string[];
  readonly requestedMs: number;
  readonly completedMs: number;
  /** Who erased (e.g. `forget`, `run:recpipe:0`). */
  readonly actor: string;
  /** What this party removed: counts per store. */
  readonly removed: Readonly<Record<string, unknown>>;
}

/** Adds this party's part to the request's audit row. */
export async function recordErasure(
  ch: ClickHouseExec,
  database: string,
  rec: ErasureRecord,
): Promise<void> {
  const t = `${quoteIdent(database)}.${TABLES.erasures}`;
  const [prev] = await ch.query<{ removed: string; user_hashes: string[] }>(
    `SELECT removed, user_hashes FROM ${t} FINAL WHERE request_id = ${sqlString(rec.requestId)}`,
  );
  const removed = new Map<string, unknown>();
  try {
    const parsed: unknown = prev ? JSON.parse(prev.removed) : {};
    if (parsed && typeof parsed === 'object')
      for (const [k, v] of Object.entries(parsed)) removed.set(k, v);
  } catch {
    // a hand-edited row: this party's part is still recorded
  }
  removed.set(rec.actor, rec.removed);
  const hashes = [...new Set([...(prev?.user_hashes ?? []), ...rec.userHashes])];
  const row = JSON.stringify({
    request_id: rec.requestId,
    user_hashes: hashes,
    requested_at: toDateTime(rec.requestedMs),
    requested_ms: rec.requestedMs,
    completed_ms: rec.completedMs,
    removed: JSON.stringify(Object.fromEntries(removed)),
  });
  await ch.command(`INSERT INTO ${t} FORMAT JSONEachRow ${row}`);
}
