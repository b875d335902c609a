import { Redis } from 'ioredis';
import type { Config } from '../../config/schema.js';
import {
  createClickHouseExec,
  eraseClickHouseUser,
  type ClickHouseExec,
} from '../../sinks/clickhouse-erase.js';
import { recordErasure } from '../../sinks/clickhouse-erasures.js';
import { eraseRedisUser, logErasures } from '../../sinks/redis-erase.js';
import { redisSecurityOptions } from '../../sinks/redis.js';
import { auditHasher, storedIds } from './ids.js';
import { scrubSnapshots } from './snapshot-scrub.js';
import { compactedTopics, writeTombstones } from './tombstones.js';

/** An erasure request (CONTRACT §5: the `privacy` topic and `recpipe forget`). */
export interface ErasureRequest {
  readonly requestId: string;
  readonly userIds: readonly string[];
  /** When it was asked for, epoch ms. */
  readonly requestedMs: number;
}

/** What one party removed for a request, as recorded in the audit row. */
export interface StoreErasure {
  readonly redis_keys: number;
  readonly push_claims: number;
  readonly clickhouse_rows: Record<string, number>;
  readonly snapshots_rewritten: number;
  readonly snapshots_deleted: number;
  /** Tombstones written to the compacted topics the job owns (the push state changelog). */
  readonly kafka_tombstones: number;
}

/** The stores an erasure touches; `close` releases what `openErasureStores` opened. */
export interface ErasureStores {
  readonly redis: Redis;
  readonly clickhouse: ClickHouseExec;
  close(): Promise<void>;
}

export function openErasureStores(cfg: Config): ErasureStores {
  const redis = new Redis(cfg.redis.url, {
    ...redisSecurityOptions(cfg),
    lazyConnect: true,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 3,
  });
  redis.on('error', () => undefined); // commands reject with the cause
  const clickhouse = createClickHouseExec(cfg);
  return {
    redis,
    clickhouse,
    close: async () => {
      await Promise.allSettled([redis.quit(), clickhouse.close()]);
    },
  };
}

/**
 * Erases the users from the stores: ClickHouse rows (waiting for the mutations), then Redis keys
 * and push claims, the stored model snapshots, tombstones in the job's compacted topics, and the
 * erasure log that scrubs older snapshots on
 * restore. Idempotent: a second run finds nothing and says so. The in-memory state of running
 * jobs is theirs to erase (pipeline/privacy/erasure-listener.ts); this is the part any process
 * can do, and what `recpipe forget` does before it returns.
 */
export async function eraseFromStores(
  cfg: Config,
  stores: ErasureStores,
  userIds: readonly string[],
  /** The job's consumer group: its compacted topics are named after it. */
  group = cfg.kafka.groupId,
): Promise<StoreErasure> {
  const ids = [...new Set(userIds.flatMap((u) => storedIds(cfg, u)))];
  // The model stores the pseudonym when pseudonyms are on, the raw id otherwise.
  const modelIds = userIds.map((u) => storedIds(cfg, u).at(-1) as string);
  const ch = await eraseClickHouseUser(
    stores.clickhouse,
    cfg.clickhouse.database,
    ids,
    cfg.privacy.mutationTimeoutMs,
  );
  const prefix = cfg.redis.prefix;
  await logErasures(
    stores.redis,
    prefix,
    modelIds.map(auditHasher(cfg)),
    cfg.redis.historyTtlSeconds,
  );
  const redis = await eraseRedisUser(stores.redis, prefix, ids, ch.claimKeys);
  const snaps = await scrubSnapshots(stores.redis, prefix, cfg, modelIds);
  const tombstones = await writeTombstones(cfg, compactedTopics(group), modelIds);
  return {
    redis_keys: redis.keys,
    push_claims: redis.claims,
    clickhouse_rows: Object.fromEntries(ch.rows.map((r) => [r.table, r.rows])),
    snapshots_rewritten: snaps.rewritten,
    snapshots_deleted: snaps.deleted,
    kafka_tombstones: tombstones,
  };
}

/** Adds `actor`'s part of the request to the audit row (no raw id: keyed hashes only). */
export async function auditErasure(
  cfg: Config,
  stores: ErasureStores,
  req: ErasureRequest,
  actor: string,
  removed: Readonly<Record<string, unknown>>,
  completedMs = Date.now(),
): Promise<void> {
  const hash = auditHasher(cfg);
  await recordErasure(stores.clickhouse, cfg.clickhouse.database, {
    requestId: req.requestId,
    userHashes: req.userIds.map((u) => hash(storedIds(cfg, u).at(-1) as string)),
    requestedMs: req.requestedMs,
    completedMs,
    actor,
    removed,
  });
}
