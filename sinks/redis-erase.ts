import type { Redis } from 'ioredis';
import { encodeKeyId, redisKeys } from './redis.js';

/** What one erasure removed from Redis. */
export interface RedisErasure {
  /** Keys naming the user (lists, meta, features, purchases, push state) deleted. */
  readonly keys: number;
  /** Push idempotency claims of the user's pushes deleted (their key is a hash, not the id). */
  readonly claims: number;
}

/** A SCAN MATCH pattern matching `s` literally: glob characters in an id are escaped. */
export function globLiteral(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Users opted out of personalisation (ZSET id → opt-out time; pipeline/privacy/consent-sync.ts). */
export const optOutKey = (prefix: string): string => `${prefix}consent:optout`;

/** The erasure log: keyed hashes of erased users, so a restored older snapshot is scrubbed. */
export const erasureLogKey = (prefix: string): string => `${prefix}privacy:erased`;

/**
 * Deletes every key that names one of `ids` (docs/redis-schema.md, "Erasure"), and the push
 * claims of the user's pushes: those named by `push:sent:{user}` plus `claimKeys` (the
 * idempotency keys ClickHouse still lists, for pushes older than the sent set keeps).
 */
export async function eraseRedisUser(
  redis: Redis,
  prefix: string,
  ids: readonly string[],
  claimKeys: readonly string[] = [],
): Promise<RedisErasure> {
  const k = redisKeys(prefix);
  const keys = new Set<string>();
  const claims = new Set<string>(claimKeys.map((c) => k.pushClaim(c)));
  for (const id of ids) {
    for (const key of [
      k.rec(id),
      k.recMeta(id),
      k.bought(id),
      k.feature('user', id),
      k.pushSent(id),
      k.pushItems(id),
    ])
      keys.add(key);
    for (const c of await redis.zrange(k.pushSent(id), 0, -1)) claims.add(k.pushClaim(c));
    // cooldowns are one key per trigger: push:cooldown:{user}:{trigger}
    const pattern = `${globLiteral(`${prefix}push:cooldown:${encodeKeyId(id)}:`)}*`;
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      for (const f of found) keys.add(f);
      cursor = next;
    } while (cursor !== '0');
  }
  const del = async (names: Set<string>): Promise<number> => {
    let n = 0;
    const all = [...names];
    for (let i = 0; i < all.length; i += 500) n += await redis.del(...all.slice(i, i + 500));
    return n;
  };
  // an erased user's opt-out goes too: erasure leaves nothing, the flag included
  if (ids.length > 0) await redis.zrem(optOutKey(prefix), ...ids);
  return {
    keys: await del(keys),
    claims: (await del(claims)) + (await eraseOutboxEntries(redis, prefix, ids, claimKeys)),
  };
}

/**
 * Push outbox entries (`push:outbox:{group}:{partition}` HASH idempotency key → decision and
 * message JSON, issue 13) of the user's pushes: the field is one of `claimKeys` or the entry
 * names the user. An erasure waits for in-flight batches to commit, which settles them, so this
 * only finds entries of a job that died since; their pushes are not re-sent, as wanted.
 */
async function eraseOutboxEntries(
  redis: Redis,
  prefix: string,
  ids: readonly string[],
  claimKeys: readonly string[],
): Promise<number> {
  const keys = new Set(claimKeys);
  const needles = ids.map((id) => JSON.stringify(id));
  let n = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(
      cursor,
      'MATCH',
      `${globLiteral(`${prefix}push:outbox:`)}*`,
      'COUNT',
      1000,
    );
    cursor = next;
    for (const key of found) {
      const entries = await redis.hgetall(key);
      const drop = Object.entries(entries)
        .filter(([f, v]) => keys.has(f) || needles.some((x) => v.includes(x)))
        .map(([f]) => f);
      if (drop.length > 0) n += await redis.hdel(key, ...drop);
    }
  } while (cursor !== '0');
  return n;
}

/**
 * Records erased users in the log (hash → erasure time). Bounded by `ttlSeconds`, the snapshots'
 * TTL: a snapshot older than that has expired, so nothing is left that an entry could scrub.
 */
export async function logErasures(
  redis: Redis,
  prefix: string,
  hashes: readonly string[],
  ttlSeconds: number,
  now = Date.now(),
): Promise<void> {
  if (hashes.length === 0) return;
  const key = erasureLogKey(prefix);
  await redis
    .multi()
    .zadd(key, ...hashes.flatMap((h) => [now, h]))
    .zremrangebyscore(key, '-inf', now - ttlSeconds * 1000)
    .expire(key, ttlSeconds)
    .exec();
}

/** The erasure log: keyed hash → erasure time (empty when none). */
export async function readErasureLog(redis: Redis, prefix: string): Promise<Map<string, number>> {
  const flat = await redis.zrange(erasureLogKey(prefix), 0, -1, 'WITHSCORES');
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i] as string, Number(flat[i + 1]));
  return out;
}
