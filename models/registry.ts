import type { ModelContext, ModelLimits } from './core/context.js';
import type { SnapshotRecommender } from './recommender.js';
import { ContentRecommender, type ContentOptions } from './content.js';
import { HybridRecommender, type HybridOptions } from './hybrid.js';
import { ItemKnnRecommender, type ItemKnnOptions } from './itemknn.js';
import { MfRecommender, type MfOptions } from './mf.js';
import { PopularRecommender, type PopularOptions } from './popular.js';
import { RankedRecommender, type RankedOptions } from './ranking/ranked-recommender.js';
import { SequenceRecommender, type SequenceOptions } from './sequence/sequence.js';
import { TrendingRecommender, type TrendingOptions } from './trending.js';

/**
 * Options per model name. createRecommender(name, opts) uses opts[name]; for `default` the
 * component sections (itemknn, mf, ...) configure the hybrid's components as well.
 */
export interface RecommenderOptions {
  default?: HybridOptions;
  popular?: PopularOptions;
  trending?: TrendingOptions;
  itemknn?: ItemKnnOptions;
  mf?: MfOptions;
  content?: ContentOptions;
  /** The learned ranker over every generator (models/ranking). */
  ranked?: RankedOptions;
  /** The GRU session model (models/sequence). */
  sequence?: SequenceOptions;
}

export const RECOMMENDER_NAMES = [
  'default',
  'popular',
  'trending',
  'itemknn',
  'mf',
  'content',
  'ranked',
  'sequence',
] as const;
export type RecommenderName = (typeof RECOMMENDER_NAMES)[number];

export function isRecommenderName(name: string): name is RecommenderName {
  return (RECOMMENDER_NAMES as readonly string[]).includes(name);
}

/**
 * A new, untrained recommender; throws on an unknown name, listing the valid ones. `limits`
 * bounds its id spaces (config `limits`, see ModelContext.limit); default: unbounded.
 */
export function createRecommender(
  name: string,
  opts: RecommenderOptions = {},
  limits?: ModelLimits,
): SnapshotRecommender & { readonly ctx: ModelContext } {
  const rec = build(name, opts);
  if (limits) rec.ctx.limit(limits);
  return rec;
}

function build(
  name: string,
  opts: RecommenderOptions,
): SnapshotRecommender & { ctx: ModelContext } {
  switch (name) {
    case 'default':
      return new HybridRecommender({
        ...opts.default,
        itemknn: { ...opts.itemknn, ...opts.default?.itemknn },
        content: { ...opts.content, ...opts.default?.content },
        mf: { ...opts.mf, ...opts.default?.mf },
        trending: { ...opts.trending, ...opts.default?.trending },
        popular: { ...opts.popular, ...opts.default?.popular },
        sequence: { ...opts.sequence, ...opts.default?.sequence },
      });
    case 'popular':
      return new PopularRecommender(opts.popular);
    case 'trending':
      return new TrendingRecommender(opts.trending);
    case 'itemknn':
      return new ItemKnnRecommender(opts.itemknn);
    case 'mf':
      return new MfRecommender(opts.mf);
    case 'content':
      return new ContentRecommender(opts.content);
    case 'ranked':
      return new RankedRecommender({
        ...opts.ranked,
        itemknn: { ...opts.itemknn, ...opts.ranked?.itemknn },
        content: { ...opts.content, ...opts.ranked?.content },
        mf: { ...opts.mf, ...opts.ranked?.mf },
        trending: { ...opts.trending, ...opts.ranked?.trending },
        popular: { ...opts.popular, ...opts.ranked?.popular },
      });
    case 'sequence':
      return new SequenceRecommender(opts.sequence);
    default:
      throw new Error(`unknown model "${name}": valid names are ${RECOMMENDER_NAMES.join(', ')}`);
  }
}

/** The GRU inside a model, if any: `sequence` itself or the `default` blend's component. */
export function sequenceOf(rec: unknown): SequenceRecommender | undefined {
  if (rec instanceof SequenceRecommender) return rec;
  return rec instanceof HybridRecommender ? rec.sequence : undefined;
}
