import { Redis, type ChainableCommander, type RedisOptions } from 'ioredis';
import type { Config } from '../config/schema.js';
import { ownValue } from '../models/core/own.js';
import type { ServedRecommendation } from '../records/index.js';
import { defineWriteScripts, encodeServedList } from './redis-scripts.js';
import { redisKeys } from './redis-keys.js';
import { readPem, redactUrl } from './security.js';
import { yieldToEventLoop } from '../pipeline/runtime/event-loop.js';
import { fieldsJson, newestSetsPerKey } from './redis-feature-fields.js';
import type { FeatureRow, FeatureSet } from './types.js';

// Key names live in redis-keys.ts; re-exported because readers and tools import them from here.
export { decodeKeyId, encodeKeyId, redisKeys } from './redis-keys.js';

/** What `recpipe recs USER --json` prints (CONTRACT §2). */
export interface RecommendationsView {
  user_id: string;
  items: { item_id: string; score: number; reason: string }[];
  model_version: string | null;
  /** Epoch ms of the refresh. */
  updated_at: number | null;
}

export interface RedisSink {
  /** Replaces each user's served list and its metadata atomically; every key gets the TTL. */
  writeRecommendations(recs: readonly ServedRecommendation[]): Promise<void>;
  readRecommendations(userId: string): Promise<RecommendationsView | null>;
  addPurchases(entries: readonly { userId: string; itemIds: readonly string[] }[]): Promise<void>;
  /** Every requested user is in the map (an empty set when nothing is stored). */
  loadPurchases(userIds: readonly string[]): Promise<Map<string, Set<string>>>;
  /** Latest value per (entity, key, feature); an older window in the same batch never wins. */
  /** Per key, the newest window of each family (and the latest unwindowed values) win. */
  writeFeatures(sets: readonly FeatureSet[]): Promise<void>;
  readFeatures(entity: FeatureRow['entity'], id: string): Promise<Record<string, number>>;
  /** Stores a model snapshot (binary) under `snapshot:{name}` with the history TTL. */
  saveSnapshot(name: string, bytes: Uint8Array): Promise<void>;
  loadSnapshot(name: string): Promise<Uint8Array | null>;
  /** Resolves when Redis answers PING; rejects fast with a clear message on auth or connection errors. */
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly prefix: string;
}

export interface RedisSinkOptions {
  /** Overrides cfg.redis.prefix (tests use a random prefix per run). */
  prefix?: string;
}

export class RedisAuthError extends Error {
  override readonly name = 'RedisAuthError';
}

/** Users per MULTI: small enough not to stall Redis, large enough to amortise round trips. */
const USERS_PER_TX = 64;
/** Script calls per pipeline: each call is atomic by itself, the pipeline only saves round trips. */
const CALLS_PER_PIPELINE = 16;
/** Feature hashes per script call (recpipeWriteHashes), like the served lists' users per call. */
const KEYS_PER_CALL = 64;
/**
 * Served lists per script call (recpipeWriteRecs): one command per 64 users instead of one per
 * user; a call keeps Redis busy for about a millisecond.
 */
const USERS_PER_CALL = 64;
const CALLS_PER_RECS_PIPELINE = 8;

/**
 * A script's JSON argument as UTF-8 bytes. As a string, ioredis keeps it on the JS heap until
 * Redis replies (flattened once to count its bytes, and copied again into the pipeline's text):
 * tens of MB of a backlog's writes in flight that every young-generation GC copied, while the
 * job's scavenges took 14 % of a drain's CPU. As a Buffer it is off the heap the GC scans; the
 * string dies at once.
 */
function jsonArgument(json: string): Buffer {
  return Buffer.from(json, 'utf8');
}

const AUTH_FAILURE =
  /WRONGPASS|NOAUTH|invalid password|invalid username-password|AUTH .*without any password/i;

/**
 * Credentials and TLS beyond what the URL says. Explicit redis.username/password win over the
 * URL's, so the secret can come from the environment alone; certificate files are read once here.
 */
export function redisSecurityOptions(cfg: Config): RedisOptions {
  const r = cfg.redis;
  const out: RedisOptions = {};
  if (r.username) out.username = r.username;
  if (r.password) out.password = r.password;
  const files = r.tls;
  if (files.caFile || files.certFile || files.keyFile || /^rediss:/i.test(r.url)) {
    out.tls = {
      ...(files.caFile && { ca: readPem(files.caFile, 'redis.tls.caFile') }),
      ...(files.certFile && { cert: readPem(files.certFile, 'redis.tls.certFile') }),
      ...(files.keyFile && { key: readPem(files.keyFile, 'redis.tls.keyFile') }),
    };
  }
  return out;
}

export function createRedisSink(cfg: Config, opts: RedisSinkOptions = {}): RedisSink {
  const prefix = opts.prefix ?? cfg.redis.prefix;
  const keys = redisKeys(prefix);
  const ttl = cfg.redis.ttlSeconds;
  const historyTtl = cfg.redis.historyTtlSeconds;
  const where = redactUrl(cfg.redis.url);

  const redis = new Redis(cfg.redis.url, {
    ...redisSecurityOptions(cfg),
    // Connect on first use, so constructing a sink (e.g. for --help paths) does no I/O.
    lazyConnect: true,
    connectTimeout: 5_000,
    // Bounded, so an unreachable Redis surfaces as an error the job's retry loop can see.
    maxRetriesPerRequest: 3,
    // Reconnect after network trouble, but not after an auth failure: a wrong password will not
    // get right by retrying, and the next call starts a fresh attempt anyway.
    retryStrategy: (times) =>
      AUTH_FAILURE.test(lastError?.message ?? '') ? null : Math.min(times * 200, 2_000),
  });
  defineWriteScripts(redis);
  let lastError: Error | undefined;
  // Without a listener ioredis prints "Unhandled error event" to the console on every retry.
  redis.on('error', (err: Error) => {
    lastError = err;
  });

  /** `viaEvent`: connect() only says "Connection is closed"; the real cause went to the error event. */
  const explain = (err: unknown, viaEvent = false): Error => {
    const cause =
      (viaEvent || AUTH_FAILURE.test(lastError?.message ?? '')) && lastError ? lastError : err;
    const msg = cause instanceof Error ? cause.message : String(cause);
    if (AUTH_FAILURE.test(msg)) {
      return new RedisAuthError(
        `Redis at ${where} rejected the credentials (${msg}); set redis.password (env RECPIPE_REDIS_PASSWORD, and redis.username for an ACL user) or put them in redis.url, e.g. redis://USER:PASSWORD@host:port`,
        { cause },
      );
    }
    return new Error(`Redis at ${where} is not reachable: ${msg}`, { cause });
  };

  /** Names the real cause: ioredis reports a lost connection as "max retries per request". */
  const failure = (what: string, err: unknown): Error => {
    const e = err as Error;
    if (AUTH_FAILURE.test(e.message) || AUTH_FAILURE.test(lastError?.message ?? ''))
      return explain(err);
    if (e.name === 'MaxRetriesPerRequestError') return explain(err, true);
    return new Error(`Redis ${what} failed: ${e.message}`, { cause: err });
  };

  let connecting: Promise<void> | undefined;
  const ready = async (): Promise<void> => {
    if (redis.status === 'ready') return;
    if (redis.status !== 'wait' && redis.status !== 'end' && redis.status !== 'close') return; // commands queue
    connecting ??= (async () => {
      lastError = undefined;
      try {
        await redis.connect();
      } catch (err) {
        // ioredis keeps reconnecting in the background after network errors, so the sink heals
        // once Redis is back; this call still fails now, with the cause.
        throw explain(err, true);
      }
    })().finally(() => {
      connecting = undefined;
    });
    await connecting;
  };

  /** Runs a transaction or pipeline and turns any per-command error into a rejection. */
  const run = async (
    what: string,
    build: (c: ChainableCommander) => void,
    transaction: boolean,
  ): Promise<unknown[]> => {
    await ready();
    const chain = transaction ? redis.multi() : redis.pipeline();
    build(chain);
    let res: [Error | null, unknown][] | null;
    try {
      res = await chain.exec();
    } catch (err) {
      throw failure(what, err);
    }
    if (res === null) throw new Error(`Redis ${what}: transaction aborted`);
    const failed = res.find(([err]) => err !== null);
    if (failed)
      throw new Error(`Redis ${what} failed: ${failed[0]?.message}`, { cause: failed[0] });
    return res.map(([, v]) => v);
  };

  const chunks = <T>(xs: readonly T[], n: number): T[][] => {
    const out: T[][] = [];
    for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
    return out;
  };

  /**
   * Writes `items` as script calls of `perCall` items each (one call is atomic), `perPipeline`
   * calls per pipeline, each pipeline sent as soon as it is built: the batching both served
   * lists and feature hashes use.
   */
  const scriptCalls = async <T>(
    what: string,
    items: readonly T[],
    perCall: number,
    perPipeline: number,
    call: (p: ChainableCommander, batch: readonly T[]) => void,
  ): Promise<void> => {
    const sent: Promise<unknown>[] = [];
    for (const chunk of chunks(items, perCall * perPipeline)) {
      // Each pipeline is built in its own turn of the event loop (encoding is the long part of a
      // backlog's write); one failing meanwhile is not unhandled, Promise.all still sees it.
      if (sent.length > 0) await yieldToEventLoop();
      const p = run(
        what,
        (c) => {
          for (let i = 0; i < chunk.length; i += perCall) call(c, chunk.slice(i, i + perCall));
        },
        false,
      );
      p.catch(() => undefined);
      sent.push(p);
    }
    await Promise.all(sent);
  };

  return {
    prefix,

    async writeRecommendations(recs) {
      await scriptCalls(
        'writeRecommendations',
        recs,
        USERS_PER_CALL,
        CALLS_PER_RECS_PIPELINE,
        (p, batch) => {
          const args: (string | number | Buffer)[] = [2 * batch.length];
          let lists = '[';
          batch.forEach((r, j) => {
            args.push(keys.rec(r.userId), keys.recMeta(r.userId));
            lists += (j > 0 ? ',' : '') + encodeServedList(r);
          });
          args.push(ttl, jsonArgument(`${lists}]`));
          p.recpipeWriteRecs(...(args as [number, ...(string | number | Buffer)[]]));
        },
      );
    },

    async readRecommendations(userId) {
      const [ranked, meta] = (await run(
        'readRecommendations',
        (tx) => {
          tx.zrevrange(keys.rec(userId), 0, -1, 'WITHSCORES');
          tx.hgetall(keys.recMeta(userId));
        },
        true,
      )) as [string[], Record<string, string>];
      if (ranked.length === 0 && Object.keys(meta).length === 0) return null;
      let reasons: Record<string, unknown> = {};
      try {
        const parsed: unknown = JSON.parse(meta.reasons ?? '{}');
        if (parsed !== null && typeof parsed === 'object')
          reasons = parsed as Record<string, unknown>;
      } catch {
        // A hand-edited or foreign meta hash still yields the ranking, just without reasons.
      }
      const items: RecommendationsView['items'] = [];
      for (let i = 0; i + 1 < ranked.length; i += 2) {
        const itemId = ranked[i];
        const reason = ownValue(reasons, itemId);
        items.push({
          item_id: itemId,
          score: Number(ranked[i + 1]),
          reason: typeof reason === 'string' ? reason : '',
        });
      }
      const updated = meta.updated_at === undefined ? NaN : Number(meta.updated_at);
      return {
        user_id: userId,
        items,
        model_version: meta.model_version ?? null,
        updated_at: Number.isFinite(updated) ? updated : null,
      };
    },

    async addPurchases(entries) {
      const nonEmpty = entries.filter((e) => e.itemIds.length > 0);
      await Promise.all(
        chunks(nonEmpty, USERS_PER_TX).map((chunk) =>
          run(
            'addPurchases',
            (tx) => {
              for (const e of chunk) {
                const key = keys.bought(e.userId);
                tx.sadd(key, ...e.itemIds);
                tx.expire(key, historyTtl);
              }
            },
            // MULTI, not a plain pipeline: a connection lost between SADD and EXPIRE would
            // otherwise leave a key without TTL.
            true,
          ),
        ),
      );
    },

    async loadPurchases(userIds) {
      const out = new Map<string, Set<string>>();
      if (userIds.length === 0) return out;
      const res = await run(
        'loadPurchases',
        (p) => {
          for (const u of userIds) p.smembers(keys.bought(u));
        },
        false,
      );
      userIds.forEach((u, i) => out.set(u, new Set(res[i] as string[])));
      return out;
    },

    async writeFeatures(rows) {
      if (rows.length === 0) return;
      const hashes = [...newestSetsPerKey(rows, keys.feature)];
      await scriptCalls('writeFeatures', hashes, KEYS_PER_CALL, CALLS_PER_PIPELINE, (p, batch) => {
        const args: (string | number | Buffer)[] = [batch.length];
        const fields: string[] = [];
        for (const [key, sets] of batch) {
          args.push(key);
          fields.push(fieldsJson(sets));
        }
        args.push(ttl, jsonArgument(`[${fields.join(',')}]`));
        p.recpipeWriteHashes(...(args as [number, ...(string | number | Buffer)[]]));
      });
    },

    async saveSnapshot(name, bytes) {
      await redis.set(
        keys.snapshot(name),
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        'EX',
        historyTtl,
      );
    },

    async loadSnapshot(name) {
      const buf = await redis.getBuffer(keys.snapshot(name));
      return buf === null ? null : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    },

    async readFeatures(entity, id) {
      const [h] = (await run(
        'readFeatures',
        (p) => void p.hgetall(keys.feature(entity, id)),
        false,
      )) as [Record<string, string>];
      return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
    },

    async ping() {
      await ready();
      try {
        await redis.ping();
      } catch (err) {
        throw failure('PING', err);
      }
    },

    async close() {
      if (redis.status === 'ready') {
        await redis.quit().catch(() => redis.disconnect());
      } else {
        redis.disconnect();
      }
    },
  };
}
