import { createHmac } from 'node:crypto';

/**
 * The stable randomised control group: a user is held out when HMAC-SHA256(salt, user_id), read
 * as a number in [0, 1), is below `fraction`. Stable (the same user is always in or out, on every
 * instance and replay), independent of anything the user does, and keyed so that a different salt
 * draws a fresh group. ClickHouse reproduces it only through the rows' `holdout` column.
 */
export function inHoldout(userId: string, fraction: number, salt: string): boolean {
  if (!(fraction > 0)) return false;
  if (fraction >= 1) return true;
  const h = createHmac('sha256', salt).update(userId).digest();
  return h.readUInt32BE(0) / 4294967296 < fraction;
}
