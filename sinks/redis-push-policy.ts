import { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { cooldownOf } from '../push/policy.js';
import type { PushDecision, PushMessage } from '../push/types.js';
import { encodeKeyId, redisKeys, redisSecurityOptions } from './redis.js';
import { redactUrl } from './security.js';

/**
 * The cross-instance half of the push policy. The graph decides pushes with each process's own
 * state; before a batch's sent pushes are produced, each is claimed here in one atomic script:
 * its idempotency key (SET NX), the user's rolling frequency cap (a ZSET of sent pushes scored by
 * event time), the per-trigger cooldown, "never pushed before" for recommendations, and the
 * global per-minute rate. A key claimed before counts as success, so a batch replayed after a
 * crash re-sends the same pushes (in the new Kafka transaction) and nothing more.
 *
 * Keys (under the Redis prefix, all with TTLs): `push:claim:{idempotency_key}`,
 * `push:sent:{user}`, `push:cooldown:{user}:{trigger}`, `push:items:{user}`,
 * `push:rate:{event-time minute}`. The rate key is shared by all users, so this needs one Redis
 * (or a cluster with hash tags around it), not a sharded keyspace.
 *
 * With an outbox (issue 13), "claimed before" is no longer enough: a claim whose message was
 * committed must not be sent again, one whose message was lost with a crash must. Each claim
 * then also writes its decision and message to `push:outbox:{group}:{partition}` (the user's
 * input partition) in the same script, and the entry goes once the Kafka transaction carrying
 * the message committed (settle). An existing claim counts as ours only while its entry is there;
 * without it the push was committed and the claim answers `already_sent`. See push-outbox.ts for
 * how a new owner of the partition decides about the entries it finds.
 */
export interface PushClaims {
  /**
   * Returns the final decisions (a sent push that loses its claim becomes suppressed, with the
   * rule that stopped it) and the messages of the pushes still sent, in input order.
   */
  claim(
    decisions: readonly PushDecision[],
    messages: readonly PushMessage[],
  ): Promise<{ decisions: PushDecision[]; messages: PushMessage[] }>;
  /**
   * As claim(), also writing each claimed push to the outbox of its user's partition
   * (`partitionOf`; a user without a known partition is claimed without outbox).
   */
  claimWithOutbox?(
    decisions: readonly PushDecision[],
    messages: readonly PushMessage[],
    partitionOf: (userId: string) => number | undefined,
  ): Promise<{ decisions: PushDecision[]; messages: PushMessage[] }>;
  /** The outbox entries of a partition: claimed pushes not yet known to be committed. */
  outbox?(partition: number): Promise<OutboxEntry[]>;
  /** Removes outbox entries whose messages are committed (or were given up). */
  settle?(entries: readonly { partition: number; key: string }[]): Promise<void>;
  close(): Promise<void>;
}

/** A claimed push whose message may not be committed yet (see PushClaims.outbox). */
export interface OutboxEntry {
  readonly partition: number;
  /** Wall-clock ms of the claim: its message, if committed, is on the push topic after this. */
  readonly at: number;
  readonly decision: PushDecision;
  readonly message: PushMessage;
}

// Bounds are computed by the caller (exact integers in ARGV) so Lua's float formatting never
// touches a timestamp.
const CLAIM = `
local ttl = tonumber(ARGV[7])
local entry = ARGV[10]
if redis.call('EXISTS', KEYS[1]) == 1 then
  if entry == '' then return {1, 'already_claimed'} end
  if redis.call('HEXISTS', KEYS[6], ARGV[8]) == 0 then return {0, 'already_sent'} end
  redis.call('HSET', KEYS[6], ARGV[8], entry)
  return {1, 'reclaimed'}
end
local n = redis.call('ZCOUNT', KEYS[2], '(' .. ARGV[2], '+inf')
if n >= tonumber(ARGV[3]) then return {0, 'frequency_cap'} end
local last = redis.call('GET', KEYS[3])
local ts = tonumber(ARGV[1])
if last and math.abs(ts - tonumber(last)) < tonumber(ARGV[4]) then return {0, 'cooldown'} end
if ARGV[5] ~= '' and redis.call('SISMEMBER', KEYS[4], ARGV[5]) == 1 then
  return {0, 'already_pushed'}
end
local used = tonumber(redis.call('GET', KEYS[5]) or '0')
if used >= tonumber(ARGV[6]) then return {0, 'rate_limit'} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[8])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[9])
redis.call('EXPIRE', KEYS[2], ttl)
if not last or ts > tonumber(last) then redis.call('SET', KEYS[3], ARGV[1], 'EX', ttl)
else redis.call('EXPIRE', KEYS[3], ttl) end
if ARGV[5] ~= '' then
  redis.call('SADD', KEYS[4], ARGV[5])
  redis.call('EXPIRE', KEYS[4], ttl)
end
redis.call('INCR', KEYS[5])
redis.call('EXPIRE', KEYS[5], ttl)
if entry ~= '' then
  redis.call('HSET', KEYS[6], ARGV[8], entry)
  redis.call('EXPIRE', KEYS[6], ttl)
end
return {1, 'claimed'}
`;

const REASONS: ReadonlyMap<string, string> = new Map([
  ['frequency_cap', 'frequency_cap: cap reached across instances (Redis claim)'],
  ['cooldown', 'cooldown: trigger sent recently by another instance (Redis claim)'],
  ['already_pushed', 'already_pushed: item pushed to this user before (Redis claim)'],
  ['rate_limit', 'rate_limit: global per-minute rate reached (Redis claim)'],
]);

export function createRedisPushClaims(
  cfg: Config,
  opts: { prefix?: string; outboxGroup?: string } = {},
): PushClaims {
  const prefix = opts.prefix ?? cfg.redis.prefix;
  const keys = redisKeys(prefix);
  const outboxKey = (partition: number): string =>
    `${prefix}push:outbox:${encodeKeyId(opts.outboxGroup ?? cfg.kafka.groupId)}:${partition}`;
  const p = cfg.push;
  const ttl = Math.max(
    p.claimTtlSeconds,
    Math.ceil(p.frequencyWindowMs / 1000),
    Math.ceil(Math.max(...Object.values(p.cooldownMs)) / 1000),
  );
  const redis = new Redis(cfg.redis.url, {
    ...redisSecurityOptions(cfg),
    lazyConnect: true,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 3,
  });
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => {
    lastError = err;
  });
  let sha: string | undefined;

  const load = async (): Promise<string> => {
    if (redis.status === 'wait' || redis.status === 'end') await redis.connect();
    sha = (await redis.script('LOAD', CLAIM)) as string;
    return sha;
  };

  const claimAll = async (
    sent: readonly PushDecision[],
    entryOf: (d: PushDecision) => { partition: number; json: string } | undefined,
  ): Promise<[number, string][]> => {
    const script = sha ?? (await load());
    const pipe = redis.pipeline();
    for (const d of sent) {
      const ts = Math.round(d.ts);
      const entry = entryOf(d);
      pipe.evalsha(
        script,
        6,
        keys.pushClaim(d.idempotencyKey),
        keys.pushSent(d.userId),
        keys.pushCooldown(d.userId, d.trigger),
        keys.pushItems(d.userId),
        keys.pushRate(Math.floor(ts / 60_000)),
        outboxKey(entry?.partition ?? -1),
        String(ts),
        String(ts - p.frequencyWindowMs),
        String(p.frequencyCap),
        String(cooldownOf(p, d.trigger)),
        d.trigger === 'new_recommendation' ? (d.items[0] ?? '') : '',
        String(p.globalRatePerMinute),
        String(ttl),
        d.idempotencyKey,
        String(ts - 2 * p.frequencyWindowMs),
        entry?.json ?? '',
      );
    }
    const res = await pipe.exec();
    if (res === null) throw new Error('Redis push claim: pipeline aborted');
    return res.map(([err, v]) => {
      if (err) {
        // Redis restarted and forgot the script: load it again on the caller's retry.
        if (/NOSCRIPT/.test(err.message)) sha = undefined;
        throw new Error(`Redis push claim failed: ${err.message}`, { cause: err });
      }
      return v as [number, string];
    });
  };

  const claim = async (
    decisions: readonly PushDecision[],
    messages: readonly PushMessage[],
    partitionOf?: (userId: string) => number | undefined,
  ): Promise<{ decisions: PushDecision[]; messages: PushMessage[] }> => {
    const sent = decisions.filter((d) => d.decision === 'sent');
    if (sent.length === 0) return { decisions: [...decisions], messages: [] };
    const byKey = new Map(messages.map((m) => [m.idempotencyKey, m]));
    const at = Date.now();
    const entryOf = (d: PushDecision): { partition: number; json: string } | undefined => {
      const partition = partitionOf?.(d.userId);
      const message = byKey.get(d.idempotencyKey);
      if (partition === undefined || message === undefined) return undefined;
      return { partition, json: JSON.stringify({ at, decision: d, message }) };
    };
    let results: [number, string][];
    try {
      results = await claimAll(sent, entryOf);
    } catch (err) {
      const cause = lastError ?? err;
      throw new Error(
        `Redis at ${redactUrl(cfg.redis.url)}: push claim failed: ${(cause as Error).message}`,
        { cause },
      );
    }
    const lost = new Map<string, string>();
    // Sent and committed before (a replay that decided it again): its row exists, so the
    // decision goes without a second row.
    const done = new Set<string>();
    sent.forEach((d, i) => {
      const [ok, code] = results[i] as [number, string];
      if (ok === 1) return;
      if (code === 'already_sent') done.add(d.idempotencyKey);
      lost.set(d.idempotencyKey, REASONS.get(code) ?? `${code}: Redis claim`);
    });
    if (lost.size === 0) return { decisions: [...decisions], messages: [...messages] };
    const kept: PushDecision[] = [];
    for (const d of decisions) {
      const reason = d.decision === 'sent' ? lost.get(d.idempotencyKey) : undefined;
      if (reason === undefined) kept.push(d);
      else if (!done.has(d.idempotencyKey)) {
        const { payload: _payload, ...rest } = d;
        kept.push({ ...rest, decision: 'suppressed', reason });
      }
    }
    return {
      decisions: kept,
      messages: messages.filter((m) => !lost.has(m.idempotencyKey)),
    };
  };

  return {
    claim: (decisions, messages) => claim(decisions, messages),
    claimWithOutbox: claim,

    async outbox(partition) {
      if (redis.status === 'wait' || redis.status === 'end') await redis.connect();
      const all = await redis.hgetall(outboxKey(partition));
      const out: OutboxEntry[] = [];
      for (const json of Object.values(all)) {
        const e = JSON.parse(json) as Omit<OutboxEntry, 'partition'>;
        out.push({ partition, at: e.at, decision: e.decision, message: e.message });
      }
      return out.sort((a, b) => a.at - b.at || a.decision.ts - b.decision.ts);
    },

    async settle(entries) {
      if (entries.length === 0) return;
      if (redis.status === 'wait' || redis.status === 'end') await redis.connect();
      const pipe = redis.pipeline();
      for (const e of entries) pipe.hdel(outboxKey(e.partition), e.key);
      await pipe.exec();
    },

    async close() {
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}
