import { Redis } from 'ioredis';
import type { Config } from '../../config/schema.js';
import { readErasureLog } from '../../sinks/redis-erase.js';
import { redisSecurityOptions } from '../../sinks/redis.js';
import { writeFallback } from '../../sinks/redis-fallback.js';
import type { Logger } from '../logger.js';
import { ConsentRegistry } from '../../privacy/consent.js';
import { ErasedUsers } from '../../privacy/erased-users.js';
import { loadOptOuts, syncConsent } from './consent-sync.js';
import { ErasureListener } from './erasure-listener.js';
import { startRetention } from './retention.js';
import { auditHasher, storedIds } from './ids.js';
import { eraseJobState, type JobState } from './job-state.js';

/** A name no user can have (ids never hold U+0000): the model answers it as a stranger. */
const NOBODY = '\u0000fallback';
/** How often the fallback list is refreshed. */
const FALLBACK_EVERY_MS = 10_000;
/** How often consent changes are persisted and acted on. */
const CONSENT_EVERY_MS = 1_000;

export interface JobPrivacyOptions {
  readonly group: string;
  readonly log: Pick<Logger, 'info' | 'warn'>;
  readonly modelVersion: string | (() => string);
  readonly state: JobState;
  /** Erased users whose late events are dropped (created before the follower, see newErasedUsers). */
  readonly erased: ErasedUsers;
  /** Waits for in-flight writes to commit, then saves a snapshot (see ErasureListener). */
  readonly settle: () => Promise<void>;
}

export interface JobPrivacy {
  /** The graph's privacy options: who opted out (consent) and who was erased. */
  readonly graph: { readonly consent: ConsentRegistry; readonly erased: ErasedUsers };

  stop(): Promise<void>;
}

/**
 * The job's privacy duties: the `privacy` topic's erasures (ErasureListener) and the global
 * fallback list, refreshed from the model's answer for a user it never saw (non-personalised).
 */
export async function startJobPrivacy(cfg: Config, o: JobPrivacyOptions): Promise<JobPrivacy> {
  const redis = new Redis(cfg.redis.url, { ...redisSecurityOptions(cfg), lazyConnect: true });
  redis.on('error', () => undefined);
  const consent = new ConsentRegistry(cfg.limits.users);
  const erasedUsers = o.erased;
  await loadOptOuts(redis, cfg, consent);
  // A snapshot saved before an erasure (another instance's, or one restored from a backup) may
  // still name the user: the erasure log says whom to drop again.
  const erased = await readErasureLog(redis, cfg.redis.prefix);
  o.erased.loadLog(erased);
  if (erased.size > 0) {
    const hash = auditHasher(cfg);
    const users = o.state.model.ctx.users.toArray().filter((u) => erased.has(hash(u)));
    const online = eraseJobState(o.state, users);
    if (users.length > 0) o.log.info({ users: users.length, online }, 'erasure log replayed');
  }
  const refresh = async (): Promise<void> => {
    const items = o.state.model.recommend(NOBODY, cfg.pipeline.topK, new Set());
    const version = typeof o.modelVersion === 'string' ? o.modelVersion : o.modelVersion();
    await writeFallback(redis, cfg.redis.prefix, items, version, cfg.redis.ttlSeconds).catch(
      (err: unknown) => o.log.warn({ err: String(err) }, 'fallback list not written'),
    );
  };
  const listener = new ErasureListener(cfg, {
    groupId: o.group,
    instanceId: cfg.kafka.instanceId,
    eraseOnline: (userIds, requestedMs) => {
      const ids = userIds.map((u) => storedIds(cfg, u).at(-1) as string);
      for (const id of ids) {
        consent.erase(id);
        erasedUsers.add(id, requestedMs);
      }
      return { ...eraseJobState(o.state, ids) };
    },
    // the erased user is served the fallback from now on: make sure there is a fresh one
    settle: async () => {
      await o.settle();
      await refresh();
    },
    onLog: (msg, fields) => o.log.info(fields ?? {}, msg),
  });
  await listener.start();
  void refresh();
  const timer = setInterval(() => void refresh(), FALLBACK_EVERY_MS);
  timer.unref();
  let syncing: Promise<unknown> | undefined;
  const consentTimer = setInterval(() => {
    syncing ??= syncConsent(redis, cfg, consent, o.state, o.settle)
      .catch((err: unknown) => o.log.warn({ err: String(err) }, 'consent not synced; retrying'))
      .finally(() => (syncing = undefined));
  }, CONSENT_EVERY_MS);
  consentTimer.unref();
  const stopRetention = startRetention(cfg, o.log);
  return {
    graph: { consent, erased: o.erased },
    stop: async () => {
      clearInterval(timer);
      clearInterval(consentTimer);
      await stopRetention();
      await syncing;
      // an opt-out of the last batches is persisted before the job lets its offsets go
      await syncConsent(redis, cfg, consent, o.state, o.settle).catch((err: unknown) =>
        o.log.warn({ err: String(err) }, 'consent not synced at shutdown'),
      );
      await refresh();
      await listener.stop();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** The job's ErasedUsers: hashes like the erasure log, bounded by `limits.users`. */
export function newErasedUsers(cfg: Config): ErasedUsers {
  return new ErasedUsers(cfg.limits.users, 7 * 86_400_000, Date.now, auditHasher(cfg));
}
