import { from, lastValueFrom, concatMap, defaultIfEmpty } from 'rxjs';
import type { Config } from '../../config/schema.js';
import { FeatureStore } from '../../features/feature-store.js';
import { featureLimits } from '../../features/config.js';
import { decodeItemDeltas, encodeItemDeltas } from '../../models/core/item-delta-codec.js';
import { isItemStateModel } from '../../models/hybrid-replica.js';
import { PrequentialEvaluator } from '../../models/prequential.js';
import { PurchaseHistory } from '../../models/purchase-history.js';
import { CatalogState } from '../../models/ranking/policy.js';
import { createRecommender } from '../../models/registry.js';
import type { Recommender } from '../../models/recommender.js';
import { featureStoreBaseline } from '../../push/burst-baseline.js';
import { PushEngine } from '../../push/engine.js';
import type { FeatureSet, GraphBatch } from '../../operators/types.js';
import {
  encodeAnalytics,
  encodeFeatureSets,
  latestFeatureSets,
} from '../../sinks/clickhouse-rows.js';
import { fieldsJson, newestSetsPerKey } from '../../sinks/redis-feature-fields.js';
import { recpipeIngest, recpipeProcess } from '../graph.js';
import { summarizeBatch } from '../metrics.js';
import { yieldToEventLoop } from './event-loop.js';
import { modelOptions } from './job-model.js';
import { LearnLedger } from './learn-ledger.js';
import { runGraphOptions } from './run-graph.js';
import { warmUpBatches } from './warm-up-stream.js';

/** Partitions of the warm-up stream and of its item delta records. */
const PARTITIONS = 6;
/** Batches between two takes of the changed feature windows (about one analytics write). */
const BATCHES_PER_TAKE = 4;

/** What the warm-up went through: each count > 0 shows that path was compiled. */
export interface WarmUpResult {
  readonly events: number;
  readonly ms: number;
  readonly servedLists: number;
  readonly deadLetters: number;
  readonly featureSets: number;
  /** Item delta records encoded, decoded and applied (the item state replica only). */
  readonly deltaRecords: number;
}

/**
 * Runs `run`'s graph and its pure encoders over a synthetic stream on throwaway state, before
 * the job joins its consumer group. V8 compiles hot code per process, in the first tens of
 * thousands of events; without this, a started instance does that while serving its first
 * batches, in interpreted code. Off by default (config `pipeline.warmUpEvents`): 20,000 events
 * add about 5 s to start-up, and the CPU it moved out of a drain (5.6-6.7 s of one instance's,
 * in two of three pairs) did not show for six instances sharing two cores (docs/BENCHMARKS.md,
 * runs W). The state built here (model, features, pushes, a second model applying item deltas)
 * is dropped; nothing reaches Kafka, Redis, ClickHouse or the job's metrics.
 */
export async function warmUp(cfg: Config, inputTopic: string): Promise<WarmUpResult> {
  const started = performance.now();
  const events = cfg.pipeline.warmUpEvents;
  const done: { -readonly [K in keyof WarmUpResult]: WarmUpResult[K] } = {
    events,
    ms: 0,
    servedLists: 0,
    deadLetters: 0,
    featureSets: 0,
    deltaRecords: 0,
  };
  if (events <= 0) return done;
  const limits = cfg.limits;
  const newModel = (): Recommender =>
    createRecommender(
      cfg.pipeline.model,
      { ...modelOptions(cfg), ranked: { logFeatures: true } },
      limits,
    );
  const recommender = newModel();
  // The receiving side of the item state replica: another instance's records applied.
  const receiver = cfg.scale.itemState === 'replica' ? newModel() : undefined;
  const deltas = isItemStateModel(recommender) && receiver && isItemStateModel(receiver);
  if (deltas) {
    recommender.recordItemDeltas(PARTITIONS);
    receiver.recordItemDeltas(PARTITIONS);
  }
  const features = new FeatureStore(featureLimits(limits));
  const push = cfg.push.enabled
    ? new PushEngine(cfg.push, featureStoreBaseline(features))
    : undefined;
  push?.trackChanges();
  const evaluator = cfg.monitoring.onlineEval
    ? new PrequentialEvaluator(cfg.monitoring.evalK, {
        window: Number.MAX_SAFE_INTEGER,
        maxUsers: limits.users,
      })
    : undefined;
  const graph = runGraphOptions(cfg, inputTopic, new LearnLedger(), {
    recommender,
    history: new PurchaseHistory({ users: limits.users, perUser: limits.purchasesPerUser }),
    features,
    catalog: new CatalogState(limits.items),
    modelVersion: 'warm-up',
    ...(evaluator && { learn: (e) => evaluator.step(e, recommender) }),
    ...(push && { push }),
    turn: yieldToEventLoop,
  });
  let batches = 0;
  const pending: FeatureSet[] = [];
  const afterBatch = async (b: GraphBatch): Promise<void> => {
    done.servedLists += b.recommendations.length;
    done.deadLetters += b.deadLetters.length;
    const now = Date.now();
    encodeAnalytics(b, now);
    summarizeBatch(b);
    push?.takeChanges();
    if (deltas)
      for (const r of recommender.takeItemDeltas(PARTITIONS)) {
        const bytes = encodeItemDeltas(r);
        const back = decodeItemDeltas(
          Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        );
        if (back) receiver.applyItemDeltas(back);
        done.deltaRecords++;
      }
    for (const f of b.features) pending.push(f);
    if (++batches % BATCHES_PER_TAKE !== 0) return;
    for (const f of features.takeChanged()) pending.push(f);
    done.featureSets += pending.length;
    encodeFeatureSets(latestFeatureSets(pending), []);
    for (const sets of newestSetsPerKey(pending, (entity, id) => `${entity}:${id}`).values())
      fieldsJson(sets);
    pending.length = 0;
    await yieldToEventLoop();
  };
  const source = warmUpBatches({
    events,
    batchSize: cfg.pipeline.batchMaxMessages,
    inputTopic,
    itemsTopic: cfg.kafka.itemsTopic,
    partitions: PARTITIONS,
    // ends a few seconds before now: windows close, and no event is in the future
    startTs: Date.now() - events * 10 - 5_000,
  });
  await lastValueFrom(
    from(source).pipe(
      recpipeIngest(graph),
      recpipeProcess(graph),
      concatMap((b) => afterBatch(b)),
      defaultIfEmpty(undefined),
    ),
  );
  done.ms = performance.now() - started;
  return done;
}
