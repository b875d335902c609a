import type { ConsentRegistry } from '../privacy/consent.js';
import type { ErasedUsers } from '../privacy/erased-users.js';
import { dropErased } from '../operators/drop-erased.js';
import { restoreWithheld } from '../operators/restore-withheld.js';
import { withholdOptedOut } from '../operators/withhold-opted-out.js';
import { concatMap, identity, pipe, type OperatorFunction } from 'rxjs';
import type { ClickEvent } from '../models/event.js';
import type { FeatureStore } from '../features/feature-store.js';
import type { PushEngine } from '../push/engine.js';
import type { PurchaseHistory } from '../models/purchase-history.js';
import type { Recommender } from '../models/recommender.js';
import {
  CatalogState,
  DEFAULT_POLICY,
  type ServingPolicyConfig,
} from '../models/ranking/policy.js';
import { decidePushes } from '../operators/decide-pushes.js';
import { dedupeEvents } from '../operators/dedupe-events.js';
import { diversifyRecommendations } from '../operators/diversify-recommendations.js';
import { filterRecommendations } from '../operators/filter-recommendations.js';
import { learnAndRecommend } from '../operators/learn-and-recommend.js';
import { hashUserIds } from '../operators/hash-user-ids.js';
import { parseMessages } from '../operators/parse-messages.js';
import { updateFeatures } from '../operators/update-features.js';
import { yieldTurn } from '../operators/yield-turn.js';
import type { Batch, GraphBatch, RawMessage, SourcedEvent } from '../operators/types.js';

export interface GraphOptions {
  readonly recommender: Recommender;
  readonly history: PurchaseHistory;
  readonly features: FeatureStore;
  readonly topK: number;
  readonly dedupeCapacity: number;
  /** Messages of this topic are catalog item events, not clickstream events. */
  readonly itemsTopic?: string;
  /** Messages of this topic are consent and locale preferences (CONTRACT §5). */
  readonly preferencesTopic?: string;
  readonly modelVersion: string | (() => string);
  readonly learn?: (event: ClickEvent) => void;
  /** False for events the model already learned (see learnAndRecommend); default: learn all. */
  readonly shouldLearn?: (event: SourcedEvent) => boolean;
  /** Push decisioning (docs/push.md); without it batches carry no push decisions. */
  readonly push?: PushEngine;
  /**
   * Processing time after which a silent source partition stops holding the event-time
   * watermark back (default 5 s). 0 for a single ordered source such as replay's file, which
   * also makes replay independent of wall-clock time.
   */
  readonly idlePartitionMs?: number;
  /** Serving filters, boosts and diversity (config `ranking`); default: DEFAULT_POLICY. */
  readonly policy?: ServingPolicyConfig;
  /** Users erased while running: their in-flight events from before the request are dropped. */
  readonly erased?: ErasedUsers;
  /** Who opted out of personalisation: their events are stored, never learned or served. */
  readonly consent?: ConsentRegistry;
  /** When set, user ids are replaced by their keyed pseudonym right after parsing (privacy). */
  readonly userIdHashKey?: string;
  /** Items whose stock and category the serving policy remembers (config `limits.items`). */
  readonly maxCatalogItems?: number;
  /** The serving policy's catalog, when the runtime also feeds it (run's catalog replica). */
  readonly catalog?: CatalogState;
  /** How far event time may run ahead of the wall clock (config `pipeline.maxFutureSkewMs`). */
  readonly maxFutureSkewMs?: number;
  /**
   * Awaited for each batch after parsing and pseudonymising, before anything learns from it:
   * `run` loads the persisted state of the batch's users here, by the ids the graph uses (never
   * by the Kafka key, which a producer may have set to anything).
   */
  readonly beforeLearn?: (batch: GraphBatch) => Promise<void>;
  /**
   * Awaited between the process stage's heavier operators. `run` passes a macrotask so that a
   * backlog batch (thousands of events) is several event-loop turns, not one; it must then let
   * one batch at a time through the stage (pipeline/runtime/batch-gate.ts). Replay has none.
   */
  readonly turn?: () => Promise<void>;
}

/**
 * The one operator graph both runtimes drive: `replay` feeds it file batches and drains it into
 * memory, `run` feeds it Kafka batches and drains it into Redis, ClickHouse and Kafka. It is the
 * ingest stage followed by the process stage; `run` puts its asynchronous preparation (loading
 * the batch's users' state) between the two.
 */
export function recpipeGraph(opts: GraphOptions): OperatorFunction<Batch<RawMessage>, GraphBatch> {
  const ingest = recpipeIngest(opts);
  const process = recpipeProcess(opts);
  const beforeLearn = opts.beforeLearn;
  return (source) =>
    source.pipe(
      ingest,
      beforeLearn ? concatMap((b: GraphBatch) => beforeLearn(b).then(() => b)) : identity,
      process,
    );
}

/** Raw messages to accepted events: parse and validate, pseudonymise, drop repeats. */
export function recpipeIngest(
  opts: Pick<
    GraphOptions,
    'itemsTopic' | 'preferencesTopic' | 'maxFutureSkewMs' | 'userIdHashKey' | 'dedupeCapacity'
  >,
): OperatorFunction<Batch<RawMessage>, GraphBatch> {
  return (source) =>
    source.pipe(
      parseMessages(
        Date.now,
        opts.itemsTopic,
        {
          ...(opts.maxFutureSkewMs !== undefined && { maxFutureSkewMs: opts.maxFutureSkewMs }),
        },
        opts.preferencesTopic,
      ),
      opts.userIdHashKey ? hashUserIds(opts.userIdHashKey) : identity,
      dedupeEvents(opts.dedupeCapacity),
    );
}

/** Accepted events to served state: features, learning, serving lists, push decisions. */
export function recpipeProcess(opts: GraphOptions): OperatorFunction<GraphBatch, GraphBatch> {
  const policy = opts.policy ?? DEFAULT_POLICY;
  const catalog = opts.catalog ?? new CatalogState(opts.maxCatalogItems);
  const rec = opts.recommender;
  const vectorOf = rec.itemVector ? (id: string) => rec.itemVector?.(id) : undefined;
  const gap: OperatorFunction<GraphBatch, GraphBatch> = opts.turn ? yieldTurn(opts.turn) : identity;
  return (source) =>
    source.pipe(
      opts.erased ? dropErased(opts.erased) : identity,
      opts.consent ? withholdOptedOut(opts.consent) : identity,
      updateFeatures(opts.features, {
        ...(opts.idlePartitionMs !== undefined && { idlePartitionMs: opts.idlePartitionMs }),
        ...(opts.turn && { turn: opts.turn }),
      }),
      gap,
      learnAndRecommend({
        recommender: opts.recommender,
        history: opts.history,
        // the policy below drops and re-ranks items, so it gets more than it serves
        topK: Math.ceil(opts.topK * Math.max(1, policy.overfetch)),
        modelVersion: opts.modelVersion,
        ...(opts.learn && { learn: opts.learn }),
        ...(opts.shouldLearn && { shouldLearn: opts.shouldLearn }),
        ...(opts.turn && { turn: opts.turn }),
      }),
      gap,
      // nested: RxJS types at most nine operators per pipe call
      pipe(
        filterRecommendations(catalog, policy),
        diversifyRecommendations(catalog, policy, opts.topK, vectorOf),
        gap,
        opts.push ? decidePushes(opts.push) : identity,
        opts.consent ? restoreWithheld() : identity,
      ),
    );
}
