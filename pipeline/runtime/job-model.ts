import type { Config } from '../../config/schema.js';
import { RankedRecommender } from '../../models/ranking/ranked-recommender.js';
import type { ModelContext } from '../../models/core/context.js';
import type { SnapshotRecommender } from '../../models/recommender.js';
import { createRecommender } from '../../models/registry.js';
import type { ClickHouseSink } from '../../sinks/clickhouse.js';
import type { Logger } from '../logger.js';
import { startRankerTrainer } from './ranker-trainer.js';

export interface JobModel {
  readonly recommender: SnapshotRecommender & { readonly ctx: ModelContext };
  /** Shown with every served list; a swapped-in ranker changes it from then on. */
  readonly modelVersion: string | (() => string);
  /** The nearline ranker trainer, when the model is `ranked` and ClickHouse is there. */
  readonly trainer: { stop(): Promise<void> } | undefined;
}

/** The configured model of `run`, its version string and its nearline trainer. */
export function createJobModel(
  cfg: Config,
  clickhouse: Pick<ClickHouseSink, 'query' | 'database'> | undefined,
  log: Logger,
): JobModel {
  // the ranked model logs its features with each served list: the nearline trainer's input
  const recommender = createRecommender(
    cfg.pipeline.model,
    { ranked: { logFeatures: true } },
    cfg.limits,
  );
  const ranker = recommender instanceof RankedRecommender ? recommender : undefined;
  const startedVersion = `${recommender.name}@${new Date().toISOString()}`;
  const modelVersion = ranker
    ? (): string => `${startedVersion}/${ranker.modelVersion}`
    : startedVersion;
  const trainer =
    ranker && clickhouse && cfg.ranking.trainer.enabled
      ? startRankerTrainer(clickhouse, ranker, cfg.ranking.trainer, log)
      : undefined;
  return { recommender, modelVersion, trainer };
}
