import type { Recommender } from './recommender.js';
import { ItemKnnRecommender, type ItemKnnOptions } from './itemknn.js';
import { MfRecommender, type MfOptions } from './mf.js';
import { PopularRecommender, type PopularOptions } from './popular.js';

export interface RecommenderOptions {
  popular?: PopularOptions;
  itemknn?: ItemKnnOptions;
  mf?: MfOptions;
}

export const RECOMMENDER_NAMES = ['popular', 'itemknn', 'mf'] as const;
export type RecommenderName = (typeof RECOMMENDER_NAMES)[number];

export function isRecommenderName(name: string): name is RecommenderName {
  return (RECOMMENDER_NAMES as readonly string[]).includes(name);
}

/** The recommender called `name`; options are per model name and only that model's are used. */
export function createRecommender(name: string, opts: RecommenderOptions = {}): Recommender {
  switch (name) {
    case 'popular':
      return new PopularRecommender(opts.popular);
    case 'itemknn':
      return new ItemKnnRecommender(opts.itemknn);
    case 'mf':
      return new MfRecommender(opts.mf);
    default:
      throw new Error(`unknown model "${name}": valid names are ${RECOMMENDER_NAMES.join(', ')}`);
  }
}
