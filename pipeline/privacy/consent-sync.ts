import type { Redis } from 'ioredis';
import type { Config } from '../../config/schema.js';
import type { ConsentRegistry } from '../../privacy/consent.js';
import { optOutKey } from '../../sinks/redis-erase.js';
import { redisKeys } from '../../sinks/redis.js';
import { eraseJobState, type JobState } from './job-state.js';

/** Loads the persisted opt-outs into `consent` (before the first batch). */
export async function loadOptOuts(
  redis: Redis,
  cfg: Config,
  consent: ConsentRegistry,
): Promise<number> {
  const flat = await redis.zrange(optOutKey(cfg.redis.prefix), 0, -1, 'WITHSCORES');
  const entries: [string, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2)
    entries.push([flat[i] as string, Number(flat[i + 1])]);
  consent.load(entries);
  return entries.length;
}

/**
 * Acts on consent changes since the last call: persists them (Redis `consent:optout`, so a
 * restart still honours them), and for each new opt-out, once what was served before it is
 * committed (`settle`), drops the user's personal state: model row, purchases, features,
 * evaluation (memory) and their list, meta, features and purchases (Redis), so `recs` serves the
 * fallback. Push state stays: it holds the channel consent (and learns nothing personal then).
 */
export async function syncConsent(
  redis: Redis,
  cfg: Config,
  consent: ConsentRegistry,
  state: JobState,
  settle: () => Promise<void>,
): Promise<number> {
  const changes = consent.takeChanges();
  if (changes.size === 0) return 0;
  const key = optOutKey(cfg.redis.prefix);
  const out = [...changes].filter(([, o]) => o).map(([u]) => u);
  const back = [...changes].filter(([, o]) => !o).map(([u]) => u);
  const tx = redis.multi();
  if (out.length > 0) tx.zadd(key, ...out.flatMap((u) => [Date.now(), u]));
  if (back.length > 0) tx.zrem(key, ...back);
  await tx.expire(key, cfg.redis.historyTtlSeconds).exec();
  if (out.length === 0) return 0;
  await settle();
  // still opted out after the wait (a later message may have taken it back)
  const still = out.filter((u) => consent.isOptedOut(u));
  eraseJobState(state, still, true);
  const k = redisKeys(cfg.redis.prefix);
  const keys = still.flatMap((u) => [k.rec(u), k.recMeta(u), k.feature('user', u), k.bought(u)]);
  if (keys.length > 0) await redis.del(...keys);
  return still.length;
}
