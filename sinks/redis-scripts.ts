import type { Redis, Result } from 'ioredis';
import type { ServedRecommendation } from '../records/index.js';

/**
 * Server-side writers for the serving keys. One script call replaces what used to be five or six
 * commands per user (DEL, ZADD, EXPIRE, HSET, EXPIRE): the job's cost per served list is then one
 * command with a handful of arguments, and each call is atomic on its own, so no MULTI is needed
 * around it. Both keys of a call are the same user's, so a cluster with hash tags could shard them.
 */
const WRITE_REC = `
local items = cjson.decode(ARGV[5])
redis.call('DEL', KEYS[1], KEYS[2])
local n = #items
local reasons = '{}'
if n > 0 then
  local z = {}
  local why = {}
  for i = 1, n do
    local it = items[i]
    z[2 * i - 1] = it[2]
    z[2 * i] = it[1]
    why[it[1]] = it[3]
  end
  redis.call('ZADD', KEYS[1], unpack(z))
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  reasons = cjson.encode(why)
end
redis.call('HSET', KEYS[2], 'model_version', ARGV[2], 'updated_at', ARGV[3], 'event_ts', ARGV[4], 'reasons', reasons)
redis.call('EXPIRE', KEYS[2], ARGV[1])
return n
`;

/**
 * HSET of the fields in ARGV[2] (a JSON array `[field, value, field, value, ...]` of strings:
 * one argument instead of one per field) and the TTL, in one atomic call: no reader sees a hash
 * without its TTL.
 */
const WRITE_HASH = `
local fv = cjson.decode(ARGV[2])
if #fv > 0 then redis.call('HSET', KEYS[1], unpack(fv)) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return #fv / 2
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    recpipeWriteRec(
      rec: string,
      meta: string,
      ttl: number,
      modelVersion: string,
      updatedAt: string,
      eventTs: string,
      items: string,
    ): Result<number, Context>;
    recpipeWriteHash(
      key: string,
      ttl: number,
      ...fieldsAndValues: string[]
    ): Result<number, Context>;
  }
}

/** Registers the scripts on a connection (ioredis sends EVALSHA and falls back to EVAL once). */
export function defineWriteScripts(redis: Redis): void {
  redis.defineCommand('recpipeWriteRec', { numberOfKeys: 2, lua: WRITE_REC });
  redis.defineCommand('recpipeWriteHash', { numberOfKeys: 1, lua: WRITE_HASH });
}

/**
 * The served list as the script's JSON argument: `[[item_id, "score", reason], ...]`. Scores go
 * as decimal strings so Lua never reformats them (its numbers print with 14 digits); NaN cannot
 * be ranked and is left out, infinities become Redis's own spelling.
 */
export function encodeServedItems(r: ServedRecommendation): string {
  let out = '[';
  let first = true;
  for (const i of r.items) {
    const s = i.score;
    if (Number.isNaN(s)) continue;
    const score = s === Infinity ? '+inf' : s === -Infinity ? '-inf' : String(s);
    out += `${first ? '' : ','}[${JSON.stringify(i.itemId)},"${score}",${JSON.stringify(i.reason)}]`;
    first = false;
  }
  return `${out}]`;
}
