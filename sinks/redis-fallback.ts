import type { Redis } from 'ioredis';
import type { ScoredItem } from '../models/event.js';
import type { RecommendationsView } from './redis.js';

/**
 * The global fallback list (CONTRACT §5): what `recs` shows a user with no list of their own
 * (erased, opted out of personalisation, new, or expired). Not per user, so it holds no personal
 * data. Keys: `fallback` ZSET item → score and `fallback:meta` HASH (`model_version`,
 * `updated_at`); every item's reason is `popular`. Same TTL as the lists.
 */
export const fallbackKeys = (prefix: string) => ({
  list: `${prefix}fallback`,
  meta: `${prefix}fallback:meta`,
});

export const FALLBACK_REASON = 'popular';

export async function writeFallback(
  redis: Redis,
  prefix: string,
  items: readonly ScoredItem[],
  modelVersion: string,
  ttlSeconds: number,
  now = Date.now(),
): Promise<void> {
  if (items.length === 0) return;
  const k = fallbackKeys(prefix);
  await redis
    .multi()
    .del(k.list)
    .zadd(k.list, ...items.flatMap((i) => [i.score, i.itemId]))
    .expire(k.list, ttlSeconds)
    .hset(k.meta, 'model_version', modelVersion, 'updated_at', String(now))
    .expire(k.meta, ttlSeconds)
    .exec();
}

/** The fallback as the `recs --json` shape for `userId`, or null when none was written. */
export async function readFallback(
  redis: Redis,
  prefix: string,
  userId: string,
): Promise<RecommendationsView | null> {
  const k = fallbackKeys(prefix);
  const res = await redis.multi().zrevrange(k.list, 0, -1, 'WITHSCORES').hgetall(k.meta).exec();
  const flat = (res?.[0]?.[1] as string[] | undefined) ?? [];
  const meta = (res?.[1]?.[1] as Record<string, string> | undefined) ?? {};
  if (flat.length === 0) return null;
  const items: RecommendationsView['items'] = [];
  for (let i = 0; i + 1 < flat.length; i += 2)
    items.push({
      item_id: flat[i] as string,
      score: Number(flat[i + 1]),
      reason: FALLBACK_REASON,
    });
  const updated = Number(meta.updated_at);
  return {
    user_id: userId,
    items,
    model_version: meta.model_version ?? null,
    updated_at: Number.isFinite(updated) ? updated : null,
  };
}
