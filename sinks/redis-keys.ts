import type { FeatureRow } from './types.js';

/**
 * An id as it appears inside a key name (CONTRACT §5): `%` and `:` percent-encoded, everything
 * else as it is. `:` separates the parts of a name, so without this user `X:meta`'s list and
 * user `X`'s meta hash would be one key; `%` is encoded so the encoding cannot be forged.
 * Ordinary ids (no `%`, no `:`) give the plain names of CONTRACT §4.
 */
export function encodeKeyId(id: string): string {
  if (!id.includes('%') && !id.includes(':')) return id;
  return id.replaceAll('%', '%25').replaceAll(':', '%3A');
}

/** Inverse of encodeKeyId (for tools that list keys). */
export function decodeKeyId(part: string): string {
  return part.replaceAll('%3A', ':').replaceAll('%3a', ':').replaceAll('%25', '%');
}

/**
 * The Redis keys of CONTRACT §4 (documented for downstream teams in docs/redis-schema.md): the
 * one place key names are built, so every id in one goes through encodeKeyId.
 */
export function redisKeys(prefix: string) {
  const k = encodeKeyId;
  return {
    /** ZSET item_id → score; the user's top N, best first with ZREVRANGE. */
    rec: (userId: string) => `${prefix}rec:${k(userId)}`,
    /** HASH model_version, updated_at (epoch ms), event_ts (epoch ms), reasons (JSON item_id → reason). */
    recMeta: (userId: string) => `${prefix}rec:${k(userId)}:meta`,
    /** SET of item_ids the user bought: the exclusions, kept across restarts. */
    bought: (userId: string) => `${prefix}hist:bought:${k(userId)}`,
    /** HASH feature → value (latest window), and `window_end_{label}` per window label. */
    feature: (entity: FeatureRow['entity'], id: string) => `${prefix}feat:${entity}:${k(id)}`,
    /** STRING (binary): a model snapshot, so a restarted job does not start cold. */
    snapshot: (name: string) => `${prefix}snapshot:${name}`,
    /** The push claim's keys (sinks/redis-push-policy.ts). */
    pushClaim: (idempotencyKey: string) => `${prefix}push:claim:${k(idempotencyKey)}`,
    pushSent: (userId: string) => `${prefix}push:sent:${k(userId)}`,
    pushCooldown: (userId: string, trigger: string) =>
      `${prefix}push:cooldown:${k(userId)}:${k(trigger)}`,
    pushItems: (userId: string) => `${prefix}push:items:${k(userId)}`,
    pushRate: (minute: number) => `${prefix}push:rate:${minute}`,
  };
}
