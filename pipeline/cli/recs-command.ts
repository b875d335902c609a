import type { Config } from '../../config/schema.js';
import { Redis } from 'ioredis';
import { createRedisSink, redisSecurityOptions } from '../../sinks/redis.js';
import { readFallback } from '../../sinks/redis-fallback.js';
import { parse, printJson, UsageError } from './args.js';

/** Reads the served recommendations exactly as a downstream service would (CONTRACT §2). */
export async function recsCommand(args: string[], cfg: Config): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean', default: false } }, true);
  const userId = positionals[0];
  if (!userId || positionals.length > 1)
    throw new UsageError('usage: recpipe recs USER_ID [--json]');
  const redis = createRedisSink(cfg);
  try {
    // No list of their own (new, erased, opted out, expired): the global fallback (CONTRACT §5).
    const recs = (await redis.readRecommendations(userId)) ?? (await fallbackFor(cfg, userId));
    if (!recs) {
      if (values.json)
        printJson({ user_id: userId, items: [], model_version: null, updated_at: null });
      else process.stderr.write(`no recommendations served for user ${userId}\n`);
      return values.json ? 0 : 1;
    }
    if (values.json) {
      printJson(recs);
    } else {
      process.stdout.write(
        `recommendations for ${userId} (model ${recs.model_version}, updated ${recs.updated_at})\n`,
      );
      for (const it of recs.items)
        process.stdout.write(`  ${it.item_id.padEnd(14)} ${it.score.toFixed(4)}  ${it.reason}\n`);
    }
    return 0;
  } finally {
    await redis.close();
  }
}

async function fallbackFor(cfg: Config, userId: string) {
  const redis = new Redis(cfg.redis.url, { ...redisSecurityOptions(cfg), lazyConnect: true });
  try {
    return await readFallback(redis, cfg.redis.prefix, userId);
  } finally {
    redis.disconnect();
  }
}
