import type { Config } from '../../config/schema.js';
import { createClickHouseSink } from '../../sinks/clickhouse.js';
import { ensureTopics } from '../../sinks/kafka-admin.js';
import { createRedisSink } from '../../sinks/redis.js';
import { boundPort, startHttpServer } from '../http-server.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { startRun } from '../runtime/run.js';
import { clickHouseWriter, redisWriter } from '../runtime/sink-writers.js';
import { intOption, parse } from './args.js';

/**
 * The streaming job. SIGTERM/SIGINT: stop consuming, flush the sinks, commit, exit 0.
 * A second signal exits at once (uncommitted work is replayed on restart: sinks are idempotent).
 */
export async function runCommand(args: string[], cfg: Config): Promise<number> {
  const { values } = parse(args, {
    topic: { type: 'string' },
    group: { type: 'string' },
    'http-port': { type: 'string' },
  });
  const topic = values.topic ?? cfg.kafka.inputTopic;
  const group = values.group ?? cfg.kafka.groupId;
  const httpPort = intOption(values['http-port'], 'http-port', 0) ?? cfg.http.port;
  const log = createLogger(cfg.logLevel);
  const metrics = createMetrics();

  const clickhouse = createClickHouseSink(cfg);
  const redis = createRedisSink(cfg);
  await Promise.all([redis.ping(), clickhouse.ping()]);
  await clickhouse.migrate();
  await ensureTopics(cfg, [
    { name: topic, partitions: cfg.kafka.partitions },
    { name: cfg.kafka.dlqTopic, partitions: cfg.kafka.partitions },
    { name: cfg.kafka.pushTopic, partitions: cfg.kafka.partitions },
  ]);

  const job = await startRun({
    cfg,
    topic,
    group,
    log,
    metrics,
    sinks: [clickHouseWriter(clickhouse, metrics), redisWriter(redis, metrics)],
    loadHistory: (users) => redis.loadPurchases(users),
  });

  const server = await startHttpServer(cfg.http.host, httpPort, metrics.registry, async () => {
    const [r, c] = await Promise.allSettled([redis.ping(), clickhouse.ping()]);
    return {
      kafka: job.healthy(),
      redis: r.status === 'fulfilled',
      clickhouse: c.status === 'fulfilled',
    };
  });
  log.info({ http: `${cfg.http.host}:${boundPort(server)}` }, 'serving /metrics and /healthz');

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      log.warn({ sig }, 'second signal: exiting without draining');
      process.exit(130);
    }
    log.info({ sig }, 'shutting down');
    void job.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    await job.done;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.allSettled([redis.close(), clickhouse.close()]);
  }
  log.info('stopped cleanly');
  return 0;
}
