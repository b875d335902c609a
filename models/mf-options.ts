import type { EventWeights } from './core/weights.js';

/** The knobs of MfRecommender and their defaults. */
export interface MfOptions {
  /** Latent dimensions (default 16). */
  dim?: number;
  /** SGD step size η (default 0.01). */
  learningRate?: number;
  /**
   * Step size of user rows relative to item rows (default 1). Users have few events each and
   * items many, so a faster user step lets a user's row catch up within one pass.
   */
  userLearningRateScale?: number;
  /** L2 weight λ on the factor rows an event touches (default 0.001). */
  regularization?: number;
  /** L2 weight on item biases (default 0.01). */
  biasRegularization?: number;
  /** Learn a per-item bias (default true). */
  itemBias?: boolean;
  /** Sampled missing entries per positive event (default 4). */
  negatives?: number;
  /** Weight c0 of each sampled missing entry in the loss (default 0.2). */
  negativeWeight?: number;
  /**
   * Negatives are drawn uniformly from the item ids of the last `negativePool` events, i.e. in
   * proportion to recent popularity (default 20000).
   */
  negativePool?: number;
  /**
   * Fraction of negatives drawn uniformly from the catalogue instead of by recent popularity
   * (default 0). Popularity-weighted negatives teach "what this user picks among what is
   * popular"; uniform ones let the item bias learn popularity itself.
   */
  uniformNegatives?: number;
  /** Standard deviation of new factor rows (default 0.1). */
  initStd?: number;
  /** Half-life of the popularity used for users the model has not seen (days, default 7). */
  coldHalfLifeDays?: number;
  /**
   * Item biases fade toward 0 with this event-time half-life, in days (default 7; Infinity
   * keeps them). An item that stopped selling is rarely drawn as a negative any more, so
   * without fading it would keep the bias it earned while it was popular.
   */
  biasHalfLifeDays?: number;
  eventWeights?: Partial<EventWeights>;
  seed?: number;
}

export type MfSettings = Required<Omit<MfOptions, 'eventWeights'>>;

export const MF_DEFAULTS: MfSettings = {
  dim: 16,
  learningRate: 0.01,
  userLearningRateScale: 1,
  regularization: 0.001,
  biasRegularization: 0.01,
  itemBias: true,
  negatives: 4,
  negativeWeight: 0.2,
  negativePool: 20_000,
  uniformNegatives: 0,
  initStd: 0.1,
  coldHalfLifeDays: 7,
  biasHalfLifeDays: 7,
  seed: 42,
};
