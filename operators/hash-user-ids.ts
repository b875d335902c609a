import { createHmac } from 'node:crypto';
import { map, type OperatorFunction } from 'rxjs';
import type { GraphBatch, SourcedEvent } from './types.js';

/**
 * The pseudonym of a user id: hex HMAC-SHA256 under `key`. Keyed, so nobody without the key can
 * recompute it from a guessed id (a plain hash of an e-mail or a customer number can be reversed
 * by trying them all); stable, so the same shopper keeps one identity across events and restarts.
 */
export function userIdHasher(key: string): (userId: string) => string {
  if (key.length === 0) throw new RangeError('userIdHasher needs a non-empty key');
  return (userId) => createHmac('sha256', key).update(userId, 'utf8').digest('hex');
}

/**
 * Replaces every accepted event's (and preference message's) user id with its keyed pseudonym,
 * right after parsing, so
 * learning, serving, features and every store downstream only ever see pseudonyms. Dead letters
 * are left alone: they are kept verbatim for debugging, which is why that table and the DLQ topic
 * need their own access control. Pure; the key comes from config `privacy.userIdHashKey`.
 *
 * ```
 * source: --a{alice,bob}--b{alice}--|
 *     hashUserIds(key)
 * result: --a{h(alice),h(bob)}--b{h(alice)}--|
 * ```
 *
 * @example
 * rawBatches.pipe(parseMessages(Date.now), hashUserIds(cfg.privacy.userIdHashKey));
 */
export function hashUserIds(key: string): OperatorFunction<GraphBatch, GraphBatch> {
  const hash = userIdHasher(key);
  return map((batch) => {
    const prefs = batch.preferences;
    if (batch.events.length === 0 && !prefs) return batch;
    const events: SourcedEvent[] = batch.events.map((e) => ({
      ...e,
      event: { ...e.event, userId: hash(e.event.userId) },
    }));
    return {
      ...batch,
      events,
      ...(prefs && { preferences: prefs.map((p) => ({ ...p, userId: hash(p.userId) })) }),
    };
  });
}
