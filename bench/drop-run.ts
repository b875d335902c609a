import { Redis } from 'ioredis';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { deleteTopicsWithPrefix } from '../kafka/admin.js';
import { createClickHouseExec } from '../sinks/clickhouse-erase.js';
import { quoteIdent } from '../sinks/clickhouse-schema.js';

/**
 * Drops what a benchmark run made in the shared stack: its Kafka topics (`{run}-…`), its Redis
 * keys (`{run}:…`) and its ClickHouse databases (`{run}` and `{run}_…`). Without it every run leaves its served lists
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
  const databases: string[] = [];
  try {
    for (const { name } of await ch.query<{ name: string }>('SHOW DATABASES'))
      if (name === run || name.startsWith(`${run}_`)) databases.push(name);
    for (const db of databases) await ch.command(`DROP DATABASE IF EXISTS ${quoteIdent(db)}`);
  } finally {
    await ch.close();
  }
  return `dropped ${topics.length} topics, ${keys} Redis keys and ${databases.length} database(s) of ${run}`;
}

// `node dist/bench/drop-run.js RUN`: for the shell benchmarks (bench/scale.sh).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const run = process.argv[2];
  if (!run || !/^[A-Za-z0-9_]+$/.test(run)) {
    process.stderr.write('usage: node dist/bench/drop-run.js RUN (letters, digits, _)\n');
    process.exit(2);
  }
  dropRun(loadConfig(undefined, process.env), run).then(
    (msg) => process.stderr.write(`[drop-run] ${msg}\n`),
    (err: unknown) => {
      process.stderr.write(`[drop-run] failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
