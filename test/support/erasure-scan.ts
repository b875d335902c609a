import type { Redis } from 'ioredis';
import type { Config } from '../../config/schema.js';
import { readChangelog } from '../../kafka/changelog-reader.js';
import { pushChangelogTopic } from '../../pipeline/runtime/push-changelog.js';
import { sqlString, type ClickHouseExec } from '../../sinks/clickhouse-erase.js';
import { endOffsets } from '../../kafka/admin.js';

/** Every Redis key under the prefix whose name or content (any type) contains one of `needles`. */
export async function redisMentions(
  redis: Redis,
  prefix: string,
  needles: readonly string[],
): Promise<string[]> {
  const out: string[] = [];
  const bufs = needles.map((n) => Buffer.from(n));
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      if (needles.some((n) => key.includes(n))) out.push(key);
      const type = await redis.type(key);
      const parts: Buffer[] =
        type === 'string'
          ? [(await redis.getBuffer(key)) ?? Buffer.alloc(0)]
          : type === 'hash'
            ? await redis
                .hgetallBuffer(key)
                .then((h) => Object.entries(h).flatMap(([k, v]) => [Buffer.from(k), v]))
            : type === 'set'
              ? await redis.smembersBuffer(key)
              : type === 'zset'
                ? await redis.zrangeBuffer(key, 0, -1)
                : [];
      if (parts.some((p) => bufs.some((b) => p.includes(b)))) out.push(`${key} (content)`);
    }
  } while (cursor !== '0');
  return out;
}

/** Rows per MergeTree table of `db` that contain a needle in any String or Array(String) column. */
export async function clickhouseMentions(
  ch: ClickHouseExec,
  db: string,
  needles: readonly string[],
): Promise<Record<string, number>> {
  const cols = await ch.query<{ table: string; name: string; type: string }>(
    `SELECT table, name, type FROM system.columns WHERE database = ${sqlString(db)}
     AND type IN ('String', 'Array(String)') AND table IN
       (SELECT name FROM system.tables WHERE database = ${sqlString(db)} AND engine LIKE '%MergeTree')`,
  );
  const byTable = new Map<string, string[]>();
  for (const c of cols)
    for (const n of needles) {
      const cond =
        c.type === 'String'
          ? `position(\`${c.name}\`, ${sqlString(n)}) > 0`
          : `arrayExists(x -> position(x, ${sqlString(n)}) > 0, \`${c.name}\`)`;
      byTable.set(c.table, [...(byTable.get(c.table) ?? []), cond]);
    }
  const out: Record<string, number> = {};
  for (const [table, conds] of byTable) {
    const [r] = await ch.query<{ n: string }>(
      `SELECT count() AS n FROM \`${db}\`.\`${table}\` WHERE ${conds.join(' OR ')}`,
    );
    out[table] = Number(r?.n ?? 0);
  }
  return out;
}

/**
 * A key's latest record in one of the group's compacted changelogs (by default the push state's;
 * `featureChangelogTopic` for the feature windows'): bytes, null (tombstone) or absent.
 */
export async function changelogRecord(
  cfg: Config,
  key: string,
  topic = pushChangelogTopic(cfg.kafka.groupId),
): Promise<Buffer | null | undefined> {
  const parts = (await endOffsets(cfg, topic)).map((p) => p.partition);
  const { values } = await readChangelog(cfg, topic, parts);
  return values.get(key)?.value;
}
