import type { Config } from '../../config/schema.js';
import type { SourcedEvent } from '../../operators/types.js';
import type { GraphOptions } from '../graph.js';
import type { LearnLedger } from './learn-ledger.js';

/** What run's state hands the graph; everything else comes from config. */
export type RunGraphState = Pick<
  GraphOptions,
  'recommender' | 'history' | 'features' | 'catalog' | 'modelVersion'
> &
  Partial<Pick<GraphOptions, 'learn' | 'push' | 'consent' | 'erased' | 'turn'>>;

/**
 * `run`'s graph options: config's limits, topics, pseudonym key and serving policy, and the
 * learn ledger's rule that an input event is learned only when this process has not learned its
 * offset yet (the follower or the snapshot it restored from may have).
 */
export function runGraphOptions(
  cfg: Config,
  inputTopic: string,
  ledger: LearnLedger,
  state: RunGraphState,
): GraphOptions {
  return {
    ...state,
    topK: cfg.pipeline.topK,
    dedupeCapacity: cfg.pipeline.dedupeCapacity,
    itemsTopic: cfg.kafka.itemsTopic,
    maxFutureSkewMs: cfg.pipeline.maxFutureSkewMs,
    preferencesTopic: cfg.kafka.preferencesTopic,
    policy: cfg.ranking,
    ...(cfg.privacy.userIdHashKey && { userIdHashKey: cfg.privacy.userIdHashKey }),
    shouldLearn: (e: SourcedEvent) => e.topic !== inputTopic || ledger.claim(e.partition, e.offset),
  };
}
