import { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { deleteTopicsWithPrefix } from '../kafka/admin.js';
import { createClickHouseExec } from '../sinks/clickhouse-erase.js';
import { quoteIdent } from '../sinks/clickhouse-schema.js';

/**
 * Drops what a benchmark run made in the shared stack: its Kafka topics (`{run}-…`), its Redis
 * keys (`{run}:…`) and its ClickHouse database. Without it every run leaves its served lists
 * and histories behind (with their TTLs of days): 3.3 M keys and 3.7 GB of Redis after a day of
 * benchmarks, which then competes with the next run for memory.
 */
export async function dropRun(cfg: Config, run: string): Promise<string> {
  const topics = await deleteTopicsWithPrefix(cfg, `${run}-`).catch(() => []);
  const redis = new Redis(cfg.redis.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  let keys = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${run}:*`, 'COUNT', 2000);
      cursor = next;
      if (batch.length > 0) keys += await redis.unlink(...batch);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  const ch = createClickHouseExec(cfg);
  try {
    await ch.command(`DROP DATABASE IF EXISTS ${quoteIdent(run)}`);
  } finally {
    await ch.close();
  }
  return `dropped ${topics.length} topics, ${keys} Redis keys and database ${run}`;
}
