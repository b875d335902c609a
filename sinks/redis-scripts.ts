import type { Redis, Result } from 'ioredis';
import type { ServedRecommendation } from '../records/index.js';
import { servedListText, type ServedListText } from './served-list-text.js';

/**
 * Server-side writers for the serving keys. One call replaces the commands each user's list
 * needs (DEL, ZADD, EXPIRE, HSET, EXPIRE), for many users at once: KEYS are each user's list and
 * metadata keys in turn, ARGV[1] the TTL and ARGV[2] a JSON array with one `[model_version,
 * updated_at, event_ts, item_ids, scores, reasons]` per user (the columns as ServedListText).
 * One script command per user used to be most of the job's cost of a served list (building and
 * sending the command); now it is one per up to 64 users. Each call is atomic for all its users,
 * so no MULTI is needed. Both keys of a user are that user's, so a cluster with hash tags could
 * shard users per call.
 */
const WRITE_RECS = `
local ttl = ARGV[1]
local lists = cjson.decode(ARGV[2])
for u = 1, #lists do
  local l = lists[u]
  local rec = KEYS[2 * u - 1]
  local meta = KEYS[2 * u]
  local ids = l[4]
  local scores = l[5]
  local texts = l[6]
  redis.call('DEL', rec, meta)
  local n = #ids
  local reasons = '{}'
  if n > 0 then
    local z = {}
    local why = {}
    for i = 1, n do
      z[2 * i - 1] = scores[i]
      z[2 * i] = ids[i]
      why[ids[i]] = texts[i]
    end
    redis.call('ZADD', rec, unpack(z))
    redis.call('EXPIRE', rec, ttl)
    reasons = cjson.encode(why)
  end
  redis.call('HSET', meta, 'model_version', l[1], 'updated_at', l[2], 'event_ts', l[3], 'reasons', reasons)
  redis.call('EXPIRE', meta, ttl)
end
return #lists
`;

/**
 * HSET and TTL of several hashes in one atomic call: KEYS are the hashes, ARGV[1] the TTL and
 * ARGV[2] a JSON array with one `[field, value, field, value, ...]` array of strings per key. No
 * reader sees a hash without its TTL. One call per key used to cost Redis more than the writes
 * themselves (a script call and a JSON decode each, about a million a minute under load).
 */
const WRITE_HASHES = `
local ttl = ARGV[1]
local all = cjson.decode(ARGV[2])
for k = 1, #KEYS do
  local fv = all[k]
  if #fv > 0 then redis.call('HSET', KEYS[k], unpack(fv)) end
  redis.call('EXPIRE', KEYS[k], ttl)
end
return #KEYS
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    recpipeWriteRecs(
      numberOfKeys: number,
      ...keysTtlAndLists: (string | number | Buffer)[]
    ): Result<number, Context>;
    recpipeWriteHashes(
      numberOfKeys: number,
      ...keysTtlAndFields: (string | number | Buffer)[]
    ): Result<number, Context>;
  }
}

/** Registers the scripts on a connection (ioredis sends EVALSHA and falls back to EVAL once). */
export function defineWriteScripts(redis: Redis): void {
  // The number of keys varies per call: it is the first argument of both.
  redis.defineCommand('recpipeWriteRecs', { lua: WRITE_RECS });
  redis.defineCommand('recpipeWriteHashes', { lua: WRITE_HASHES });
}

/** One user's entry of WRITE_RECS's list argument (times as the decimal strings String gives). */
export function encodeServedList(r: ServedRecommendation): string {
  const t = servedListText(r) ?? redisColumns(r);
  return `[${JSON.stringify(r.modelVersion)},"${r.updatedAt}","${r.eventTs}",${t.items},${t.scores},${t.reasons}]`;
}

/** A list with a score that is not finite: NaN cannot be ranked and is left out, infinities
 * become Redis's own spelling. */
function redisColumns(r: ServedRecommendation): ServedListText {
  const items: string[] = [];
  const scores: string[] = [];
  const reasons: string[] = [];
  for (const i of r.items) {
    const s = i.score;
    if (Number.isNaN(s)) continue;
    items.push(JSON.stringify(i.itemId));
    scores.push(s === Infinity ? '"+inf"' : s === -Infinity ? '"-inf"' : `"${s}"`);
    reasons.push(JSON.stringify(i.reason));
  }
  return {
    items: `[${items.join(',')}]`,
    scores: `[${scores.join(',')}]`,
    reasons: `[${reasons.join(',')}]`,
  };
}
