import { concatMap, lastValueFrom, map, tap } from 'rxjs';
import { FeatureStore } from '../../features/feature-store.js';
import { featureLimits } from '../../features/config.js';
import { PushEngine } from '../../push/engine.js';
import { featureStoreBaseline } from '../../push/burst-baseline.js';
import { PUSH_TRIGGERS } from '../../push/types.js';
import { PurchaseHistory } from '../../models/purchase-history.js';
import { CatalogState } from '../../models/ranking/policy.js';
import type { GraphBatch } from '../../operators/types.js';
import { recpipeIngest, recpipeProcess } from '../graph.js';
import { runGraphOptions } from './run-graph.js';
import { runTopology } from '../topology.js';
import { KafkaConsumerSource } from '../../kafka/consumer-source.js';
import { TransactionalProducer } from '../../kafka/transactional-producer.js';
import { observeCommitted } from '../metrics.js';
import { createRedisPushClaims } from '../../sinks/redis-push-policy.js';
import { Delivery } from './delivery.js';
import { runStages } from './run-stages.js';
import { PushDurability } from './push-durability.js';
import {
  createRunFollower,
  firstOffsetsOf,
  followBatch,
  prepareFollower,
} from './follower-prepare.js';
import { CatalogReplica } from './catalog-replica.js';
import { createItemStateReplica } from './item-state-replica.js';
import { LearnLedger } from './learn-ledger.js';
import { ModelSnapshots } from './model-snapshots.js';
import { CommitProgress } from './commit-progress.js';
import { startLagMonitor } from './lag-monitor.js';
import { startEventLoopLag } from '../event-loop-lag.js';
import { createJobModel } from './job-model.js';
import { ModelMonitor, startModelMetricsWriter } from './model-monitor.js';
import { retryUntilDone } from './retry.js';
import { yieldToEventLoop } from './event-loop.js';
import { BatchGate } from './batch-gate.js';
import { warmUp } from './warm-up.js';
import { CurrentUsers, userStateLoader } from './user-state.js';
import { newErasedUsers, startJobPrivacy } from '../privacy/job-privacy.js';
import { DrainTimeoutError, type RunDependencies, type RunningJob } from './run-job.js';
export { DrainTimeoutError } from './run-job.js';
export type { RunDependencies, RunningJob, SnapshotStore } from './run-job.js';

export async function startRun(deps: RunDependencies): Promise<RunningJob> {
  const { cfg, log, metrics } = deps;
  const { recommender, modelVersion, trainer } = createJobModel(cfg, deps.clickhouse, log);
  // A user forgotten to stay within limits.users is no longer current: reloaded on return.
  const history = new PurchaseHistory({
    users: cfg.limits.users,
    perUser: cfg.limits.purchasesPerUser,
    onForget: (userId) => users.forgetUser(userId),
  });
  const features = new FeatureStore(featureLimits(cfg.limits));
  const push = cfg.push.enabled
    ? new PushEngine(cfg.push, featureStoreBaseline(features))
    : undefined;
  const claims = push ? (deps.pushClaims ?? createRedisPushClaims(cfg)) : undefined;
  const settled = (): Promise<void> => progress.settled(producer, cfg.pipeline.drainTimeoutMs);
  const durableOpts = { push, claims, features, ...deps, settled, stopping: () => stopping };
  // Restores come after start-up, when `erased` (declared below) exists.
  const wasErased = (u: string, ts: number): boolean => erased.covers(u, ts);
  const durable = new PushDurability(cfg, { ...durableOpts, erased: wasErased }, log, (p) =>
    source.owns(deps.topic, p),
  );
  // What the model has learned, per input partition (docs/scaling.md): saved with the snapshot.
  const ledger = new LearnLedger();
  const users = new CurrentUsers();
  // One snapshot per instance of the group (with the follower, each holds every partition's state).
  const snapshotName = `${deps.group}:${cfg.kafka.instanceId}:${recommender.name}`;
  // The graph yields between operators (graph.turn): one batch at a time from hydrate to claim,
  // so each batch is prepared, processed and its changelog encoded before the next one starts.
  // The model snapshots and large feature takes hold it too while they read that state in parts.
  const gate = new BatchGate();
  const snapshots = new ModelSnapshots(
    deps.snapshots,
    snapshotName,
    recommender,
    ledger,
    log,
    {
      minIntervalMs: cfg.pipeline.snapshotIntervalMs,
      everyEvents: cfg.pipeline.snapshotEveryEvents,
      maxIntervalMs: cfg.pipeline.snapshotMaxIntervalMs,
    },
    gate,
  );
  await snapshots.restore();
  const quality = cfg.monitoring.onlineEval
    ? new ModelMonitor(recommender, metrics, {
        k: cfg.monitoring.evalK,
        window: cfg.monitoring.evalWindow,
        maxUsers: cfg.limits.users,
      })
    : undefined;
  let stopping = false;
  const erased = newErasedUsers(cfg); // their old events are not learned again (docs/privacy.md)

  const itemState = createItemStateReplica(cfg, deps.group, recommender, ledger, metrics, log);
  const follower = createRunFollower(cfg, {
    topic: deps.topic,
    group: deps.group,
    ledger,
    erased,
    learner: itemState ?? recommender,
    followOthers: !itemState, // item deltas replace learning every partition
    registry: metrics.registry,
    log,
    // Learning of other partitions runs ahead of serving by at most the bound, unless this
    // instance has nothing left to serve (then there is nothing to be ahead of).
    frontier: () =>
      source.caughtUp(deps.topic)
        ? Number.POSITIVE_INFINITY
        : servingFrontier + cfg.scale.stalenessMs,
  });
  /** Event time being served: the newest of the batches' median event times. */
  let servingFrontier = Number.NEGATIVE_INFINITY;
  // Batches commit in order, so "everything emitted so far is committed" is one number.
  let emittedSeq = -1;
  const progress = new CommitProgress((seq, committed) =>
    log.warn({ seq, committedSeq: committed }, 'revoke: in-flight batches not committed in time'),
  );
  const partitionsOf = (parts: readonly { topic: string; partition: number }[], topic: string) =>
    parts.filter((p) => p.topic === topic).map((p) => p.partition);

  // Every instance knows the whole catalog (see catalog-replica.ts).
  const catalog = new CatalogState(cfg.limits.items);
  const replica = new CatalogReplica(cfg, {
    topic: cfg.kafka.itemsTopic,
    groupId: deps.group,
    instanceId: cfg.kafka.instanceId,
    apply: (item) => {
      recommender.learnItem?.(item);
      catalog.observeItem(item);
      features.observeItem(item);
      push?.observeCatalog(item);
    },
    onLog: (msg) => log.warn(msg),
  });

  const source = new KafkaConsumerSource(cfg, {
    topics: [deps.topic, cfg.kafka.itemsTopic, cfg.kafka.preferencesTopic],
    groupId: deps.group,
    batchMaxMessages: cfg.pipeline.batchMaxMessages,
    batchMaxMs: cfg.pipeline.batchMaxMs,
    maxInFlight: cfg.pipeline.maxInFlightBatches,
    maxInFlightMessages: cfg.pipeline.maxInFlightMessages,
    idleAdvanceMs: cfg.pipeline.idleAdvanceMs,
    idleTopic: deps.topic,
    onLog: (msg) => log.warn(msg),
    onAssign: (parts) => {
      const mine = partitionsOf(parts, deps.topic);
      if (parts.length > 0) log.info({ partitions: mine }, 'partitions assigned');
      follower?.assigned(mine);
      durable.assigned(mine);
      if (follower && mine.length > 0)
        void prepareFollower(source.consumer, deps.topic, mine, follower, log);
      replica.assigned(partitionsOf(parts, cfg.kafka.itemsTopic));
    },
    // Kafka Streams' rule: commit what was processed of a partition before giving it up, so the
    // next owner starts exactly where this one stopped and no late commit moves it backwards.
    onRevoke: async (parts, lost) => {
      const mine = partitionsOf(parts, deps.topic);
      log.info({ partitions: mine, lost }, 'partitions revoked');
      if (!lost) {
        delivery.flushNow();
        await progress.through(emittedSeq, cfg.scale.revokeTimeoutMs);
      }
      users.forget(mine);
      durable.revoked(mine);
      follower?.released(mine);
      // eager rebalancing revokes everything: read the whole catalog until the next assignment
      replica.assigned([]);
    },
  });
  const producer = new TransactionalProducer(cfg, `recpipe-${deps.group}-${cfg.kafka.instanceId}`);
  // Before any consumer joins: compiling the hot code is start-up, not the group's work.
  const warm = await warmUp(cfg, deps.topic);
  if (warm.events > 0) log.info({ events: warm.events, ms: Math.round(warm.ms) }, 'warmed up');
  await Promise.all([follower?.connect(), replica.connect(), itemState?.connect()]);
  await source.connect();
  await producer.connect();
  const stopLoopLag = startEventLoopLag(metrics);
  const lag = startLagMonitor(source.consumer, metrics, {
    intervalMs: cfg.monitoring.lagIntervalMs,
    onError: (err) => log.warn({ err: (err as Error).message }, 'consumer lag poll failed'),
  });
  const stopQuality = startModelMetricsWriter(quality, deps.writeModelMetrics, cfg, log);
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

  const hydrate = userStateLoader({
    inputTopic: deps.topic,
    users,
    history,
    load: deps.loadHistory,
    retry,
    onRefused: (n, err) => log.warn({ users: n, err }, 'purchase history unreadable'),
  });

  /** First offset of each input partition in each batch in flight (the follower's handoff point). */
  const firstOffsets = new Map<number, Map<number, number>>();
  // Before a batch is processed: restored push state, the follower (followBatch), users' history.
  const prepare = async (batch: GraphBatch): Promise<GraphBatch> => {
    // A macrotask turn per batch: when prepare needs no I/O, queued batches would otherwise run
    // back to back in one chain of microtasks, and a job that is behind stalled its event loop
    // (Kafka polls, store replies, /metrics) for seconds.
    await yieldToEventLoop();
    const first = firstOffsets.get(batch.seq);
    firstOffsets.delete(batch.seq);
    await durable.ready().then(() => progress.preparedUpTo(batch.seq));
    if (follower)
      await followBatch(follower, batch, first, {
        cfg,
        topic: deps.topic,
        owns: (p) => source.owns(deps.topic, p),
        served: (at) => (servingFrontier = Math.max(servingFrontier, at)),
      });
    await hydrate(batch);
    return batch;
  };

  const readTimes = new Map<number, number>();
  const delivery = new Delivery(
    runStages({
      cfg,
      metrics,
      log,
      serving: deps.serving,
      analytics: deps.analytics,
      features,
      gate,
      claims,
      durable,
      producer,
      source,
      retry,
      onKafkaHealth: (ok) => (kafkaHealthy = ok),
    }),
    {
      flushMs: cfg.pipeline.analyticsFlushMs,
      flushMaxMessages: cfg.pipeline.analyticsFlushMessages,
      flushMaxBatches: Math.max(1, cfg.pipeline.maxInFlightBatches >> 1),
      onServed: (served) => {
        const now = Date.now();
        for (const s of served)
          for (const ts of s.summary.eventTs)
            metrics.servingSeconds.observe(Math.max(0, now - ts) / 1000);
      },
      onCommitted: (served) => {
        let committed = 0;
        for (const s of served) {
          committed += s.messages;
          observeCommitted(metrics, s.summary, readTimes.get(s.seq) ?? Date.now(), PUSH_TRIGGERS);
          readTimes.delete(s.seq);
          progress.committedUpTo(s.seq);
          durable.outbox?.settle(s.outboxKeys);
          source.release(s.messages);
        }
        quality?.publish();
        metrics.inFlightBatches.set(source.pendingBatches);
        // Off the commit path: the snapshot is written while the next batches flow.
        snapshots.maybeSave(committed);
      },
    },
  );

  const release = async (clean: boolean): Promise<void> => {
    progress.end();
    await trainer?.stop();
    await Promise.all([follower?.stop(), replica.stop(), itemState?.stop()]);
    await privacy.stop();
    // Only after a clean drain does the model reflect exactly what was committed.
    await snapshots.settled();
    if (clean) await snapshots.save();
    lag.stop();
    stopLoopLag();
    await stopQuality();
    await claims?.close();
    await producer
      .disconnect()
      .catch((err: unknown) => log.warn({ err: String(err) }, 'producer disconnect'));
    await source
      .disconnect()
      .catch((err: unknown) => log.warn({ err: String(err) }, 'consumer disconnect'));
  };

  // Erasures (docs/privacy.md): memory at once; after in-flight writes commit, a clean snapshot.
  const privacy = await startJobPrivacy(cfg, {
    group: deps.group,
    log,
    modelVersion,
    state: {
      model: recommender,
      history,
      features,
      push,
      quality,
      current: users,
      changelog: durable,
    },
    erased,
    settle: async () => {
      delivery.flushNow();
      await progress.through(emittedSeq, cfg.pipeline.drainTimeoutMs);
      await snapshots.settled().then(() => snapshots.save());
    },
  });
  const graph = runGraphOptions(cfg, deps.topic, ledger, {
    recommender,
    history,
    features,
    catalog,
    modelVersion,
    ...(quality && { learn: quality.learn }),
    ...privacy.graph,
    ...(push && { push }),
    turn: yieldToEventLoop,
  });
  // The stages of pipeline/topology.ts (`recpipe describe run`), piped in the declared order.
  const pipeline = lastValueFrom(
    runTopology({
      source: source.batches().pipe(
        tap((b) => {
          emittedSeq = b.seq;
          readTimes.set(b.seq, Date.now());
          firstOffsets.set(b.seq, firstOffsetsOf(b.items, deps.topic));
          metrics.messagesIn.inc({ topic: deps.topic }, b.items.length);
          metrics.inFlightBatches.set(source.pendingBatches);
        }),
      ),
      ingest: recpipeIngest(graph),
      hydrate: concatMap((batch) => gate.enter().then(() => prepare(batch))),
      graph: recpipeProcess(graph),
      claim: map((batch) => {
        // Also past dead letters and repeats: the follower resumes a released partition here.
        for (const c of batch.commits)
          if (c.topic === deps.topic) ledger.advance(c.partition, c.offset);
        const out = durable.attach(batch);
        const attached = itemState ? itemState.attach(out) : out;
        gate.leave();
        return attached;
      }),
      sinks: delivery.sinkStage(),
      commit: delivery.commitStage(() => log.info('source drained')),
    }),
  );
  const done = Promise.race([pipeline, delivery.failed()]).then(
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
