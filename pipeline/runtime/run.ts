import { concatMap, finalize, lastValueFrom, defaultIfEmpty, tap } from 'rxjs';
import type { Config } from '../../config/schema.js';
import { FeatureStore } from '../../models/features/feature-store.js';
import { PushEngine, featureStoreBaseline } from '../../models/push/engine.js';
import { PUSH_TRIGGERS } from '../../models/push/types.js';
import { PurchaseHistory } from '../../models/purchase-history.js';
import { createRecommender } from '../../models/registry.js';
import { RankedRecommender } from '../../models/ranking/ranked-recommender.js';
import type { ClickHouseSink } from '../../sinks/clickhouse.js';
import { startRankerTrainer } from './ranker-trainer.js';
import type { Batch, DeadLetter, GraphBatch, RawMessage } from '../../operators/types.js';
import { recpipeGraph } from '../graph.js';
import { KafkaConsumerSource } from '../kafka/consumer-source.js';
import { callback } from '../kafka/rdkafka.js';
import type { OutMessage } from '../kafka/transactional-producer.js';
import { TransactionalProducer } from '../kafka/transactional-producer.js';
import type { Logger } from '../logger.js';
import { countPushDecisions, countPushFeedback, type Metrics } from '../metrics.js';
import { createRedisPushClaims, type PushClaims } from '../../sinks/redis-push-policy.js';
import { userIdHasher } from '../../operators/hash-user-ids.js';
import { deadLetterMessage, reasonCode } from '../../sinks/types.js';
import type { ModelMetric } from '../../sinks/types.js';
import { Follower } from './follower.js';
import { LearnLedger, packSnapshot, unpackSnapshot } from './learn-ledger.js';
import { startLagMonitor } from './lag-monitor.js';
import { ModelMonitor } from './model-monitor.js';
import { readIsolating } from '../../sinks/isolate.js';
import { retryUntilDone } from './retry.js';
import { CurrentUsers } from './user-state.js';
import { eventTimestamp } from '../../models/validate-event.js';

/** One store the job writes each batch to; resolves only when the store acknowledged. */
export interface SinkWriter {
  readonly name: string;
  /**
   * Resolves with the rows the store refused for their content, as dead letters (they are not
   * retried: the same row fails the same way every time); rejects on outages (retried).
   */
  write(batch: GraphBatch): Promise<readonly DeadLetter[] | void>;
  /** Stores dead letters that came up while writing (the sink that keeps dead letters). */
  writeDeadLetters?(letters: readonly DeadLetter[]): Promise<void>;
}

export interface RunDependencies {
  readonly cfg: Config;
  readonly topic: string;
  readonly group: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly sinks: readonly SinkWriter[];
  /** Loads persisted purchase history for users not seen yet by this process. */
  readonly loadHistory: (userIds: readonly string[]) => Promise<Map<string, Set<string>>>;
  /** Where the windowed online model metrics go (ClickHouse `model_metrics`); optional. */
  readonly writeModelMetrics?: (rows: readonly ModelMetric[]) => Promise<void>;
  /** Cross-instance push claims; by default Redis at cfg.redis (sinks/redis-push-policy.ts). */
  readonly pushClaims?: PushClaims;
  /** Where model snapshots live, so a restarted job does not start cold; optional. */
  readonly snapshots?: SnapshotStore;
  /** Served lists and events for the nearline ranker trainer (model `ranked`); optional. */
  readonly clickhouse?: Pick<ClickHouseSink, 'query' | 'database'>;
}

export interface SnapshotStore {
  save(name: string, bytes: Uint8Array): Promise<void>;
  load(name: string): Promise<Uint8Array | null>;
}

export interface RunningJob {
  /** Stops consuming, drains and commits what is in flight, then disconnects. */
  stop(): Promise<void>;
  /** False once the last commit or lag poll failed (the broker is unreachable). */
  healthy(): boolean;
  readonly done: Promise<void>;
}

/** The drain after stop() ran out of time: uncommitted batches remain (replayed on restart). */
export class DrainTimeoutError extends Error {
  override readonly name = 'DrainTimeoutError';
}

export async function startRun(deps: RunDependencies): Promise<RunningJob> {
  const { cfg, log, metrics } = deps;
  // the ranked model logs its features with each served list: the nearline trainer's input
  const recommender = createRecommender(
    cfg.pipeline.model,
    { ranked: { logFeatures: true } },
    cfg.limits,
  );
  const ranker = recommender instanceof RankedRecommender ? recommender : undefined;
  // A user forgotten to stay within limits.users is no longer current: reloaded on return.
  const history = new PurchaseHistory({
    users: cfg.limits.users,
    perUser: cfg.limits.purchasesPerUser,
    onForget: (userId) => users.forgetUser(userId),
  });
  const features = new FeatureStore();
  const push = cfg.push.enabled
    ? new PushEngine(cfg.push, featureStoreBaseline(features))
    : undefined;
  const claims = push ? (deps.pushClaims ?? createRedisPushClaims(cfg)) : undefined;
  const startedVersion = `${recommender.name}@${new Date().toISOString()}`;
  // a swapped-in ranker shows in every list served after the swap
  const modelVersion = ranker
    ? (): string => `${startedVersion}/${ranker.modelVersion}`
    : startedVersion;
  const trainer =
    ranker && deps.clickhouse && cfg.ranking.trainer.enabled
      ? startRankerTrainer(deps.clickhouse, ranker, cfg.ranking.trainer, log)
      : undefined;
  // What the model has learned, per input partition (docs/scaling.md): saved with the snapshot.
  const ledger = new LearnLedger();
  const users = new CurrentUsers();
  // One snapshot per instance of the group (with the follower, each holds every partition's state).
  const snapshotName = `${deps.group}:${cfg.kafka.instanceId}:${recommender.name}`;
  if (deps.snapshots && recommender.restore) {
    const bytes = await deps.snapshots.load(snapshotName);
    if (bytes) {
      recommender.restore(unpackSnapshot(bytes, ledger));
      log.info({ snapshot: snapshotName, bytes: bytes.byteLength }, 'model restored from snapshot');
    }
  }
  let lastSnapshot = Date.now();
  const saveSnapshot = async (): Promise<void> => {
    if (!deps.snapshots || !recommender.snapshot) return;
    lastSnapshot = Date.now();
    const bytes = packSnapshot(ledger, recommender.snapshot());
    await deps.snapshots
      .save(snapshotName, bytes)
      .then(() =>
        log.debug({ snapshot: snapshotName, bytes: bytes.byteLength }, 'model snapshot saved'),
      )
      .catch((err: unknown) => log.warn({ err: String(err) }, 'model snapshot not saved'));
  };
  const quality = cfg.monitoring.onlineEval
    ? new ModelMonitor(recommender, metrics, {
        k: cfg.monitoring.evalK,
        window: cfg.monitoring.evalWindow,
        maxUsers: cfg.limits.users,
      })
    : undefined;
  let stopping = false;
  const pseudonym = cfg.privacy.userIdHashKey ? userIdHasher(cfg.privacy.userIdHashKey) : undefined;

  const follower = cfg.scale.follow
    ? new Follower(cfg, {
        topic: deps.topic,
        groupId: deps.group,
        instanceId: cfg.kafka.instanceId,
        ledger,
        learn: (e) => recommender.learn(pseudonym ? { ...e, userId: pseudonym(e.userId) } : e),
        dedupeCapacity: cfg.pipeline.dedupeCapacity,
        registry: metrics.registry,
        // Learning of other partitions runs ahead of serving by at most the bound, unless this
        // instance has nothing left to serve (then there is nothing to be ahead of).
        frontier: () =>
          source.caughtUp(deps.topic)
            ? Number.POSITIVE_INFINITY
            : servingFrontier + cfg.scale.stalenessMs,
        onLog: (msg, fields) => log.warn(fields ?? {}, msg),
      })
    : undefined;
  /** Event time being served: the newest of the batches' median event times. */
  let servingFrontier = Number.NEGATIVE_INFINITY;
  // Batches commit in order, so "everything emitted so far is committed" is one number.
  let emittedSeq = -1;
  let committedSeq = -1;
  let ended = false;
  const commitWaiters = new Set<() => void>();
  const committedThrough = (seq: number, maxMs: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const check = (): void => {
        if (!ended && committedSeq < seq) return;
        clearTimeout(timer);
        commitWaiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        log.warn({ seq, committedSeq }, 'revoke: in-flight batches not committed in time');
        commitWaiters.delete(check);
        resolve();
      }, maxMs);
      commitWaiters.add(check);
      check();
    });
  const inputPartitions = (parts: readonly { topic: string; partition: number }[]): number[] =>
    parts.filter((p) => p.topic === deps.topic).map((p) => p.partition);

  // Where the group resumes each newly assigned partition: the follower learns up to there while
  // the consumer fetches, instead of on the partition's first batch.
  const prepareFollower = async (partitions: number[]): Promise<void> => {
    try {
      const offsets = await callback<{ partition: number; offset: number }[]>((cb) =>
        source.consumer.committed(
          partitions.map((partition) => ({ topic: deps.topic, partition })),
          10_000,
          cb as (err: unknown, offsets: unknown) => void,
        ),
      );
      for (const o of offsets) if (o.offset >= 0) follower?.prepare(o.partition, o.offset);
    } catch (err) {
      // The first batch's handoff still catches up; this only starts it early.
      log.debug({ err: String(err) }, 'committed offsets not read');
    }
  };

  const source = new KafkaConsumerSource(cfg, {
    topics: [deps.topic, cfg.kafka.itemsTopic, cfg.kafka.preferencesTopic],
    groupId: deps.group,
    batchMaxMessages: cfg.pipeline.batchMaxMessages,
    batchMaxMs: cfg.pipeline.batchMaxMs,
    maxInFlight: cfg.pipeline.maxInFlightBatches,
    onLog: (msg) => log.warn(msg),
    onAssign: (parts) => {
      const mine = inputPartitions(parts);
      if (parts.length > 0) log.info({ partitions: mine }, 'partitions assigned');
      follower?.assigned(mine);
      if (follower && mine.length > 0) void prepareFollower(mine);
    },
    // Kafka Streams' rule: commit what was processed of a partition before giving it up, so the
    // next owner starts exactly where this one stopped and no late commit moves it backwards.
    onRevoke: async (parts, lost) => {
      const mine = inputPartitions(parts);
      log.info({ partitions: mine, lost }, 'partitions revoked');
      if (!lost) await committedThrough(emittedSeq, cfg.scale.revokeTimeoutMs);
      users.forget(mine);
      follower?.released(mine);
    },
  });
  const producer = new TransactionalProducer(cfg, `recpipe-${deps.group}-${cfg.kafka.instanceId}`);
  await follower?.connect();
  await source.connect();
  await producer.connect();
  const lag = startLagMonitor(source.consumer, metrics, {
    intervalMs: cfg.monitoring.lagIntervalMs,
    onError: (err) => log.warn({ err: (err as Error).message }, 'consumer lag poll failed'),
  });
  // A sample of model quality, not a record of every batch: a point lost to an outage is skipped.
  const writeQuality = async (): Promise<void> => {
    const rows = quality?.rows(Date.now()) ?? [];
    if (rows.length === 0 || !deps.writeModelMetrics) return;
    await deps
      .writeModelMetrics(rows)
      .catch((err: unknown) =>
        log.warn({ err: (err as Error).message }, 'model metrics not written'),
      );
  };
  const qualityTimer = setInterval(
    () => void writeQuality(),
    cfg.monitoring.modelMetricsIntervalMs,
  );
  qualityTimer.unref();
  log.info({ topic: deps.topic, group: deps.group, model: recommender.name }, 'consuming');

  const retry = <T>(sink: string, fn: () => Promise<T>): Promise<T> =>
    retryUntilDone(fn, {
      aborted: () => stopping && Date.now() > drainDeadline,
      onError: (err, attempt) => {
        metrics.sinkErrors.inc({ sink });
        log.warn({ sink, attempt, err: (err as Error).message }, 'sink write failed; retrying');
      },
    });
  let drainDeadline = Number.POSITIVE_INFINITY;
  let kafkaHealthy = true;

  // Purchase history of users this process holds no current copy of, by the parsed (and, with
  // privacy on, pseudonymised) id the graph uses: the Kafka key is never trusted for state.
  const hydrate = async (batch: GraphBatch): Promise<void> => {
    const missing = new Map<string, number>();
    for (const { event, topic, partition } of batch.events) {
      if (topic !== deps.topic) continue;
      if (!users.isCurrent(event.userId)) missing.set(event.userId, partition);
    }
    if (missing.size > 0) {
      const { values: loaded, refused } = await retry('redis-history', () =>
        readIsolating([...missing.keys()], deps.loadHistory),
      );
      // a key Redis refuses to read (another type under our name) must not stall the job
      if (refused.length > 0)
        log.warn({ users: refused.length, err: refused[0]?.error }, 'purchase history unreadable');
      for (const [user, partition] of missing) {
        history.hydrate(user, loaded.get(user) ?? []);
        users.markCurrent(user, partition);
      }
    }
  };

  // Before a batch is served: a partition that just moved here is learned up to the batch, and
  // what other instances own is learned to within the staleness bound (docs/scaling.md).
  const prepare = async (batch: Batch<RawMessage>): Promise<Batch<RawMessage>> => {
    if (follower) {
      const first = new Map<number, number>();
      // The batch's event time is the median of its events': a backlog batch can span hours of
      // event time, and its events are learned one by one, so the median keeps the follower as
      // much ahead of the batch's first half as behind its second (docs/scaling.md).
      const times: number[] = [];
      for (const m of batch.items) {
        if (m.topic !== deps.topic) continue;
        if (!first.has(m.partition)) first.set(m.partition, m.offset);
        const ts = eventTime(m.value, cfg.pipeline.maxFutureSkewMs);
        if (ts > Number.NEGATIVE_INFINITY) times.push(ts);
      }
      const at = median(times);
      if (at > servingFrontier) servingFrontier = at;
      // Not for a partition already given up (lost): the follower learns it again meanwhile.
      for (const [partition, offset] of first)
        if (!follower.isOwned(partition) && source.owns(deps.topic, partition))
          await follower.handoff(partition, offset, cfg.scale.handoffTimeoutMs);
      if (times.length > 0)
        await follower.waitFresh(at, cfg.scale.stalenessMs, cfg.scale.maxHoldMs);
    }
    return batch;
  };

  // Claimed before any sink sees the batch, so ClickHouse stores the final decisions; a replay
  // after a crash re-claims the same keys as success and re-sends exactly what was sent.
  const claimPushes = async (batch: GraphBatch): Promise<GraphBatch> => {
    if (!claims || !(batch.pushes ?? []).some((d) => d.decision === 'sent')) return batch;
    const final = await retry('redis-push-claims', () =>
      claims.claim(batch.pushes ?? [], batch.pushMessages ?? []),
    );
    return { ...batch, pushes: final.decisions, pushMessages: final.messages };
  };

  const writeAndCommit = async (graphBatch: GraphBatch, readAt: number): Promise<void> => {
    let batch = await claimPushes(graphBatch);
    const refused = await Promise.all(
      deps.sinks.map((s) =>
        retry(s.name, async () => {
          const end = metrics.sinkSeconds.startTimer({ sink: s.name });
          const rows = await s.write(batch);
          end();
          return rows ?? [];
        }),
      ),
    );
    // Rows a store refused for their content are dead letters of this batch, which then commits.
    const late = refused.flat();
    if (late.length > 0) {
      log.warn(
        { rows: late.length, reason: late[0]?.reason },
        'rows refused by a store: dead-lettered',
      );
      await Promise.all(
        deps.sinks.map((s) =>
          s.writeDeadLetters
            ? retry(s.name, () => s.writeDeadLetters?.(late) ?? Promise.resolve())
            : undefined,
        ),
      );
      batch = { ...batch, deadLetters: [...batch.deadLetters, ...late] };
    }
    const out: OutMessage[] = batch.deadLetters.map((d) => ({
      topic: cfg.kafka.dlqTopic,
      ...deadLetterMessage(d),
    }));
    for (const m of batch.pushMessages ?? [])
      out.push({ topic: cfg.kafka.pushTopic, key: m.key, value: m.value, headers: m.headers });
    await retry('kafka-commit', async () => {
      try {
        // A partition lost to another member is theirs to commit now.
        const commits = batch.commits.filter((c) => source.owns(c.topic, c.partition));
        await producer.commit(out, commits, source.consumer);
        kafkaHealthy = true;
      } catch (err) {
        kafkaHealthy = false;
        throw err;
      }
    });
    observe(batch, readAt);
  };

  const observe = (batch: GraphBatch, readAt: number): void => {
    const now = Date.now();
    metrics.eventsValid.inc(batch.events.length);
    metrics.duplicates.inc(batch.duplicates);
    for (const d of batch.deadLetters) metrics.deadLetters.inc({ reason: reasonCode(d.reason) });
    metrics.recommendations.inc(batch.recommendations.length);
    countPushDecisions(metrics, batch.pushes ?? []);
    countPushFeedback(
      metrics,
      batch.events.map((s) => s.event),
      PUSH_TRIGGERS,
    );
    quality?.publish();
    metrics.batchesCommitted.inc();
    metrics.freshnessSeconds.observe((now - readAt) / 1000);
    for (const { event } of batch.events)
      metrics.endToEndSeconds.observe(Math.max(0, now - event.ts) / 1000);
  };

  const release = async (clean: boolean): Promise<void> => {
    ended = true;
    await trainer?.stop();
    for (const w of [...commitWaiters]) w();
    await follower?.stop();
    // Only after a clean drain does the model reflect exactly what was committed.
    if (clean) await saveSnapshot();
    lag.stop();
    clearInterval(qualityTimer);
    await writeQuality();
    await claims?.close();
    await producer
      .disconnect()
      .catch((err: unknown) => log.warn({ err: String(err) }, 'producer disconnect'));
    await source
      .disconnect()
      .catch((err: unknown) => log.warn({ err: String(err) }, 'consumer disconnect'));
  };

  const readTimes = new Map<number, number>();
  const done = lastValueFrom(
    source.batches().pipe(
      tap((b) => {
        emittedSeq = b.seq;
        readTimes.set(b.seq, Date.now());
        metrics.messagesIn.inc({ topic: deps.topic }, b.items.length);
        metrics.inFlightBatches.set(source.pendingBatches);
      }),
      concatMap(prepare),
      recpipeGraph({
        recommender,
        history,
        features,
        topK: cfg.pipeline.topK,
        dedupeCapacity: cfg.pipeline.dedupeCapacity,
        itemsTopic: cfg.kafka.itemsTopic,
        maxFutureSkewMs: cfg.pipeline.maxFutureSkewMs,
        preferencesTopic: cfg.kafka.preferencesTopic,
        maxCatalogItems: cfg.limits.items,
        modelVersion,
        policy: cfg.ranking,
        ...(quality && { learn: quality.learn }),
        ...(cfg.privacy.userIdHashKey && { userIdHashKey: cfg.privacy.userIdHashKey }),
        shouldLearn: (e) => e.topic !== deps.topic || ledger.claim(e.partition, e.offset),
        beforeLearn: hydrate,
        ...(push && { push }),
      }),
      concatMap(async (batch) => {
        const readAt = readTimes.get(batch.seq) ?? Date.now();
        readTimes.delete(batch.seq);
        // Also past dead letters and repeats: the follower resumes a released partition here.
        for (const c of batch.commits)
          if (c.topic === deps.topic) ledger.advance(c.partition, c.offset);
        await writeAndCommit(batch, readAt);
        committedSeq = batch.seq;
        for (const w of [...commitWaiters]) w();
        source.release();
        metrics.inFlightBatches.set(source.pendingBatches);
        if (Date.now() - lastSnapshot >= cfg.pipeline.snapshotIntervalMs) await saveSnapshot();
      }),
      defaultIfEmpty(undefined),
      finalize(() => log.info('source drained')),
    ),
  ).then(
    () => release(true),
    async (err: unknown) => {
      // Connected librdkafka handles keep the process alive, so a failed drain must close them
      // too, or the job would hang instead of exiting.
      await release(false);
      if (stopping && Date.now() > drainDeadline) {
        throw new DrainTimeoutError(
          `drain deadline (${cfg.pipeline.drainTimeoutMs} ms) passed with batches not acknowledged by every store; ` +
            'their offsets were not committed, so the next start replays them',
          { cause: err },
        );
      }
      throw err;
    },
  );

  return {
    done,
    healthy: () => kafkaHealthy && lag.healthy(),
    stop: async () => {
      if (stopping) return done;
      stopping = true;
      drainDeadline = Date.now() + cfg.pipeline.drainTimeoutMs;
      log.info('stopping: draining in-flight batches');
      source.stop();
      return done;
    },
  };
}

/** The event time of a raw clickstream message, or -Infinity when it has none (a dead letter). */
function eventTime(value: string | Buffer, maxFutureSkewMs: number): number {
  try {
    const v: unknown = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
    // the same rule as validation: a ts far in the future (a dead letter) must not move the
    // serving frontier the follower is allowed to run ahead of
    const ts =
      typeof v === 'object' && v !== null
        ? eventTimestamp((v as { ts?: unknown }).ts, { maxFutureSkewMs })
        : 0;
    return typeof ts === 'number' ? ts : Number.NEGATIVE_INFINITY;
  } catch {
    return Number.NEGATIVE_INFINITY;
  }
}

function median(xs: number[]): number {
  if (xs.length === 0) return Number.NEGATIVE_INFINITY;
  xs.sort((a, b) => a - b);
  return xs[xs.length >> 1] as number;
}
