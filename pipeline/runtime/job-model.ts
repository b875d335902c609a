import type { Config } from '../../config/schema.js';
import { RankedRecommender } from '../../models/ranking/ranked-recommender.js';
import type { ModelContext } from '../../models/core/context.js';
import type { SnapshotRecommender } from '../../models/recommender.js';
import { createRecommender, sequenceOf, type RecommenderOptions } from '../../models/registry.js';
import type { ClickHouseSink } from '../../sinks/clickhouse.js';
import type { Logger } from '../logger.js';
import { startRankerTrainer } from './ranker-trainer.js';
import { startSequenceTrainer } from './sequence-trainer.js';

export interface JobModel {
  readonly recommender: SnapshotRecommender & { readonly ctx: ModelContext };
  /** Shown with every served list; a swapped-in ranker changes it from then on. */
  readonly modelVersion: string | (() => string);
  /**
   * The nearline trainers: the ranker's when the model is `ranked`, the GRU's when it is on
   * (config `sequence`), each only with ClickHouse.
   */
  readonly trainer: { stop(): Promise<void> } | undefined;
}

/** Model options from the config: the GRU joins the `default` blend when its weight is > 0. */
export function modelOptions(cfg: Config): RecommenderOptions {
  return cfg.sequence.weight > 0
    ? {
        default: { weights: { sequence: cfg.sequence.weight } },
        sequence: {
          candidates: cfg.sequence.candidates,
          rerankDepth: cfg.sequence.rerankDepth,
          markovWeight: cfg.sequence.markovWeight,
        },
      }
    : {};
}

/**
 * The same for `replay`, where the GRU refits in-process on the events replayed so far (the
 * prequential protocol: never on an event it has not been tested on yet).
 */
export function replayModelOptions(cfg: Config): RecommenderOptions {
  const sequence = {
    candidates: cfg.sequence.candidates,
    rerankDepth: cfg.sequence.rerankDepth,
    markovWeight: cfg.sequence.markovWeight,
    trainEvery: cfg.sequence.replayTrainEvery,
    trainWindow: cfg.sequence.replayTrainWindow,
    fitLag: cfg.sequence.replayFitLag,
    minTrainEvents: cfg.sequence.replayFirstFit,
    epochs: cfg.sequence.replayEpochs,
    dim: cfg.sequence.replayDim,
    minFitPositions: cfg.sequence.replayMinFitPositions,
  };
  return { ...modelOptions(cfg), sequence };
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
    { ...modelOptions(cfg), ranked: { logFeatures: true } },
    cfg.limits,
  );
  const seq = sequenceOf(recommender);
  const ranker = recommender instanceof RankedRecommender ? recommender : undefined;
  const startedVersion = `${recommender.name}@${new Date().toISOString()}`;
  const modelVersion =
    ranker || seq
      ? (): string =>
          startedVersion +
          (ranker ? `/${ranker.modelVersion}` : '') +
          (seq ? `/seq:${seq.modelVersion}` : '')
      : startedVersion;
  const trainers = [
    ranker && clickhouse && cfg.ranking.trainer.enabled
      ? startRankerTrainer(clickhouse, ranker, cfg.ranking.trainer, log)
      : undefined,
    seq && clickhouse && cfg.sequence.trainer.enabled
      ? startSequenceTrainer(clickhouse, seq, cfg.sequence.trainer, log)
      : undefined,
  ].filter((t) => t !== undefined);
  const trainer =
    trainers.length > 0
      ? { stop: async (): Promise<void> => void (await Promise.all(trainers.map((t) => t.stop()))) }
      : undefined;
  return { recommender, modelVersion, trainer };
}
