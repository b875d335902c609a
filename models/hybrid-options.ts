/** Options and tuned defaults of the `default` model (models/hybrid.ts). */
import type { ContentOptions } from './content.js';
import type { IntentOptions } from './intent.js';
import type { ItemKnnOptions } from './itemknn.js';
import type { MfOptions } from './mf.js';
import type { PopularOptions } from './popular.js';
import type { SequenceOptions } from './sequence/sequence.js';
import type { TrendingOptions } from './trending.js';

/** Blend weight per component; 0 switches a component off entirely (not even learned). */
export interface HybridWeights {
  itemknn?: number;
  content?: number;
  mf?: number;
  trending?: number;
  popular?: number;
  recency?: number;
  intent?: number;
  /** The GRU session model (models/sequence); default 0: opt-in (docs/BENCHMARKS.md). */
  sequence?: number;
}

export interface HybridOptions {
  weights?: HybridWeights;
  /** Trending items added to every candidate set (default 20). */
  trendingCandidates?: number;
  /**
   * When the user has a short-term intent, a co-visitation candidate's score is multiplied by
   * 1 − a + a·(its category's share of the intent): long-term history that disagrees with the
   * current session fades (default 0: off; it costs the sequential stream more than it gains elsewhere).
   */
  intentAgreement?: number;
  /** How many of the best cheap-blend candidates MF re-ranks (default 25). */
  rerankDepth?: number;
  itemknn?: ItemKnnOptions;
  content?: ContentOptions;
  mf?: MfOptions;
  trending?: TrendingOptions;
  popular?: PopularOptions;
  intent?: IntentOptions;
  sequence?: SequenceOptions;
}

/** Tuned on the full Online Retail stream (prequential HR@10, see bench/models.ts). */
export const DEFAULT_HYBRID_WEIGHTS: Required<HybridWeights> = {
  itemknn: 1,
  content: 0.3,
  mf: 0.1,
  trending: 0.1,
  popular: 0.05,
  recency: 0.3,
  intent: 1,
  sequence: 0,
};

/**
 * MF inside the hybrid only re-ranks a short list, where a faster-moving model helps more
 * than the slower, better-calibrated settings that are best for `mf` on its own.
 */
export const HYBRID_MF_DEFAULTS: MfOptions = {
  learningRate: 0.05,
  regularization: 0.01,
  negativeWeight: 0.5,
};

/**
 * Inside the blend, co-visitation and content only propose candidates that the other channels
 * re-weigh, so longer neighbour lists and a stronger hub penalty pay off there (Online Retail
 * replay HR@10 0.3384 -> 0.3402 at the same CPU time; the stand-alone `itemknn` and `content`
 * keep their own defaults, so the baselines do not move).
 */
export const HYBRID_KNN_DEFAULTS: ItemKnnOptions = {
  neighbors: 80,
  rowNormalization: 0.65,
  pairWindow: 8,
};
export const HYBRID_CONTENT_DEFAULTS: ContentOptions = { neighbors: 50 };
