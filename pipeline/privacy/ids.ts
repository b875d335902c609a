import { createHmac } from 'node:crypto';
import type { Config } from '../../config/schema.js';
import { userIdHasher } from '../../operators/hash-user-ids.js';

/** Public fallback salt of the audit pseudonym (config `privacy.auditKey` should replace it). */
const DEFAULT_AUDIT_SALT = 'recpipe-erasure-v1';

/**
 * The names a user's data is stored under: the raw id (dead letters, the Kafka keys, and every
 * store when pseudonyms are off) and, with `privacy.userIdHashKey`, the pseudonym the job stores.
 */
export function storedIds(cfg: Config, userId: string): string[] {
  const key = cfg.privacy.userIdHashKey;
  return key ? [userId, userIdHasher(key)(userId)] : [userId];
}

/**
 * The keyed hash the erasure audit and the erasure log keep instead of an id: enough to answer
 * "was this user erased, when" for someone who holds the id and the key, useless to anyone else.
 * Applied to the name the model stores (the pseudonym when pseudonyms are on), so a restore can
 * test each of a snapshot's users against the log.
 */
export function auditHasher(cfg: Config): (id: string) => string {
  const key = cfg.privacy.auditKey || cfg.privacy.userIdHashKey || DEFAULT_AUDIT_SALT;
  return (id) => createHmac('sha256', key).update(`erasure\u0000${id}`, 'utf8').digest('hex');
}
