import type { Config } from '../../config/schema.js';
import { createClickHouseSink } from '../../sinks/clickhouse.js';
import { ensureTopics } from '../../kafka/admin.js';
import { itemDeltasSpec } from '../runtime/item-state-replica.js';
import { featureChangelogTopic } from '../runtime/feature-changelog.js';
import { pushChangelogSpec } from '../runtime/push-changelog.js';
import { createRedisSink } from '../../sinks/redis.js';
import { boundPort, startHttpServer, cachedHealth } from '../http-server.js';
import { configSecrets } from '../../sinks/security.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { DrainTimeoutError, startRun } from '../runtime/run.js';
import { analyticsWriter, redisWriter } from '../runtime/sink-writers.js';
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
  const log = createLogger(cfg.logLevel, 'recpipe', { secrets: configSecrets(cfg) });
  const metrics = createMetrics();
  // A signal during start-up (scripts/run-instances.sh stopping a group that is still joining)
  // is kept and acted on once the job exists, so it still drains and exits 0; a second one exits.
  const early: NodeJS.Signals[] = [];
  const onEarlySignal = (sig: NodeJS.Signals): void => {
    if (early.push(sig) > 1) process.exit(130);
  };
  process.on('SIGTERM', onEarlySignal);
  process.on('SIGINT', onEarlySignal);

  const clickhouse = createClickHouseSink(cfg);
  const redis = createRedisSink(cfg);
  // A connection of its own for bulk writes (feature hashes with the analytics lane, model
  // snapshots of tens of MB): on the serving connection they queued users' lists behind them.
  const bulkRedis = createRedisSink(cfg);
  await Promise.all([redis.ping(), bulkRedis.ping(), clickhouse.ping()]);
  await clickhouse.migrate();
  await ensureTopics(cfg, [
    { name: topic, partitions: cfg.kafka.partitions },
    { name: cfg.kafka.itemsTopic, partitions: cfg.kafka.partitions },
    { name: cfg.kafka.preferencesTopic, partitions: cfg.kafka.partitions },
    { name: cfg.kafka.dlqTopic, partitions: cfg.kafka.partitions },
    { name: cfg.kafka.pushTopic, partitions: cfg.kafka.partitions },
    { name: cfg.privacy.topic, partitions: cfg.kafka.partitions },
  ]);
  if (cfg.push.enabled && cfg.pipeline.stateChangelog)
    await ensureTopics(cfg, [await pushChangelogSpec(cfg, topic, group)]);
  if (cfg.scale.itemState === 'replica')
    await ensureTopics(cfg, [await itemDeltasSpec(cfg, topic, group)]);
  if (cfg.pipeline.featureChangelog)
    await ensureTopics(cfg, [
      { ...(await pushChangelogSpec(cfg, topic, group)), name: featureChangelogTopic(group) },
    ]);

  const job = await startRun({
    cfg,
    topic,
    group,
    log,
    metrics,
    serving: redisWriter(redis, metrics),
    analytics: analyticsWriter(clickhouse, bulkRedis, metrics),
    loadHistory: (users) => redis.loadPurchases(users),
    writeModelMetrics: (rows) => clickhouse.insertModelMetrics(rows),
    clickhouse,
    snapshots: {
      save: (n, b) => bulkRedis.saveSnapshot(n, b),
      load: (n) => bulkRedis.loadSnapshot(n),
    },
  });

  // A store that hangs instead of refusing must still turn /healthz red, within a probe's budget.
  const probe = (p: Promise<void>): Promise<boolean> =>
    withTimeout(p, cfg.http.healthTimeoutMs).then(
      () => true,
      () => false,
    );
  const health = cachedHealth(async (): Promise<Record<string, boolean>> => {
    const [r, c] = await Promise.all([probe(redis.ping()), probe(clickhouse.ping())]);
    const checks = { kafka: job.healthy(), redis: r, clickhouse: c };
    for (const [dependency, up] of Object.entries(checks))
      metrics.dependencyUp.set({ dependency }, up ? 1 : 0);
    return checks;
  }, cfg.http.healthCacheMs);
  // Keeps recpipe_dependency_up current for dashboards even when nobody polls /healthz.
  const healthTimer = setInterval(() => void health(), 5_000);
  healthTimer.unref();
  void health();

  const server = await startHttpServer(cfg.http.host, httpPort, metrics.registry, health);
  log.info({ http: `${cfg.http.host}:${boundPort(server)}` }, 'serving /metrics and /healthz');

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      log.warn({ sig }, 'second signal: exiting without draining');
      process.exit(130);
    }
    log.info({ sig }, 'shutting down');
    // The outcome (including a failed drain) is handled where job.done is awaited below.
    job.stop().catch(() => undefined);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.off('SIGTERM', onEarlySignal);
  process.off('SIGINT', onEarlySignal);
  if (early[0]) onSignal(early[0]);

  try {
    await job.done;
  } catch (err) {
    if (!(err instanceof DrainTimeoutError)) throw err;
    // Nothing is lost (uncommitted work is replayed on the next start), but the drain did not
    // finish, so say so with a distinct status (EX_TEMPFAIL) rather than 0 or a crash.
    log.error({ err: err.message, cause: String(err.cause) }, 'stopped without a full drain');
    return 75;
  } finally {
    clearInterval(healthTimer);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.allSettled([redis.close(), bulkRedis.close(), clickhouse.close()]);
  }
  log.info('stopped cleanly');
  return 0;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
