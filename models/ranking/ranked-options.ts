import type { ContentOptions } from '../content.js';
import type { ItemKnnOptions } from '../itemknn.js';
import type { MfOptions } from '../mf.js';
import type { PopularOptions } from '../popular.js';
import type { MfRetrieverOptions } from '../retrieval/mf-retriever.js';
import type { TrendingOptions } from '../trending.js';
import type { OnlineRankOptions } from './online.js';

/** The knobs of the `ranked` model: its generators, candidate counts and the ranker's shape. */
export interface RankedOptions {
  itemknn?: ItemKnnOptions;
  content?: ContentOptions;
  mf?: MfOptions;
  trending?: TrendingOptions;
  popular?: PopularOptions;
  /**
   * Best candidates of the wide (linear) stage that the MLP and MF re-score, and the rows of a
   * served list kept for online learning (default 20: 40 measured the same HR@10 on Online
   * Retail, 0.3375 against 0.3370, at 15% less throughput).
   */
  depth?: number;
  /** Global trending items added to every candidate set (default 20). */
  trendingCandidates?: number;
  /** Popular items added for users with no history (default 30). */
  popularCandidates?: number;
  /** Trending items per category the user browsed recently (default 10). */
  categoryCandidates?: number;
  /** Recent categories remembered per user (default 3). */
  userCategories?: number;
  /** Items retrieved by MF inner product (IVF index; default 0 = off). */
  mfCandidates?: number;
  /**
   * Learn MF and use its score as a feature (default false: on Online Retail it moved HR@10 by
   * less than 0.001 and cost 15% of the throughput; catalogues with richer histories may differ).
   */
  useMf?: boolean;
  /** Gap after which a user's next event starts a new session, minutes (default 60). */
  sessionGapMinutes?: number;
  /** Hidden units of the MLP (default 8). */
  hidden?: number;
  /** Learn the ranking model from served lists and the events that follow them. */
  online?: OnlineRankOptions & { enabled?: boolean };
  /** Users whose last served list is kept for online learning (default 4096). */
  servedCache?: number;
  /** Attach each item's feature vector to the served list (the nearline trainer's input). */
  logFeatures?: boolean;
  /** Events between refreshes of the popular and per-category trending lists (default 500). */
  refreshEvery?: number;
  retrieval?: MfRetrieverOptions;
}

export const RANKED_DEFAULTS = {
  depth: 20,
  trendingCandidates: 20,
  popularCandidates: 30,
  categoryCandidates: 10,
  userCategories: 3,
  mfCandidates: 0,
  useMf: false,
  sessionGapMinutes: 60,
  hidden: 8,
  servedCache: 4096,
  logFeatures: false,
  refreshEvery: 500,
};

export type RankedSettings = typeof RANKED_DEFAULTS;
