import type { Redis } from 'ioredis';
import type { Config } from '../../config/schema.js';
import { createRecommender } from '../../models/registry.js';
import { globLiteral } from '../../sinks/redis-erase.js';
import { LearnLedger, packSnapshot, unpackSnapshot } from '../runtime/learn-ledger.js';

export interface SnapshotScrub {
  /** Snapshots that named a user and were rewritten without them. */
  readonly rewritten: number;
  /** Snapshots that named a user and could not be rewritten, so were deleted (a cold start). */
  readonly deleted: number;
}

/** Whether `bytes` hold one of `ids` as a JSON string (how snapshots store id lists). */
export function snapshotNames(bytes: Uint8Array, ids: readonly string[]): boolean {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return ids.some((id) => buf.includes(Buffer.from(JSON.stringify(id), 'utf8')));
}

/**
 * Rewrites every stored model snapshot (`snapshot:{group}:{instance}:{model}`) that names one of
 * `ids`: restored into a model of that name, the users erased (ModelContext.forgetUser), saved
 * back with the TTL it had. A snapshot that cannot be restored is deleted instead: a cold start
 * is the lesser harm. `ids` are the names the model stores (pseudonyms when they are on).
 */
export async function scrubSnapshots(
  redis: Redis,
  prefix: string,
  cfg: Config,
  ids: readonly string[],
): Promise<SnapshotScrub> {
  let rewritten = 0;
  let deleted = 0;
  const pattern = `${globLiteral(`${prefix}snapshot:`)}*`;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 200);
    cursor = next;
    for (const key of keys) {
      const buf = await redis.getBuffer(key);
      if (!buf) continue;
      const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      if (!snapshotNames(bytes, ids)) continue;
      const clean = rewrite(bytes, key.slice(key.lastIndexOf(':') + 1), cfg, ids);
      const ttl = await redis.pttl(key);
      if (clean && !snapshotNames(clean, ids)) {
        const value = Buffer.from(clean.buffer, clean.byteOffset, clean.byteLength);
        if (ttl > 0) await redis.set(key, value, 'PX', ttl);
        else await redis.set(key, value, 'EX', cfg.redis.historyTtlSeconds);
        rewritten++;
      } else {
        await redis.del(key);
        deleted++;
      }
    }
  } while (cursor !== '0');
  return { rewritten, deleted };
}

function rewrite(
  bytes: Uint8Array,
  model: string,
  cfg: Config,
  ids: readonly string[],
): Uint8Array | undefined {
  try {
    // the options `run` uses (pipeline/runtime/job-model.ts): a snapshot restores only into them
    const rec = createRecommender(model, { ranked: { logFeatures: true } }, cfg.limits);
    const ledger = new LearnLedger();
    rec.restore(unpackSnapshot(bytes, ledger));
    for (const id of ids) rec.ctx.forgetUser(id);
    return packSnapshot(ledger, rec.snapshot());
  } catch {
    return undefined;
  }
}
