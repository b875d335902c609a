import { map, type OperatorFunction } from 'rxjs';
import {
  diversify,
  type CatalogState,
  type ServingPolicyConfig,
} from '../models/ranking/policy.js';
import type { GraphBatch } from './types.js';

/**
 * Cuts each refreshed list to the served `topK`, with at most `maxPerCategory` items of a
 * category and, when mmrLambda < 1, maximal marginal relevance over the model's item factors.
 *
 * ```
 * source: --a{u1 [a1,a2,a3,b1]}--|           (a*, b*: two categories; maxPerCategory 2)
 *     diversifyRecommendations(catalog, policy, 3)
 * result: --a{u1 [a1,a2,b1]}-----|
 * ```
 *
 * @example
 * filtered.pipe(diversifyRecommendations(catalog, policy, 10, (id) => rec.itemVector?.(id)));
 */
export function diversifyRecommendations(
  catalog: CatalogState,
  policy: ServingPolicyConfig,
  topK: number,
  vectorOf?: (itemId: string) => Float32Array | undefined,
): OperatorFunction<GraphBatch, GraphBatch> {
  return map((batch) => {
    if (batch.recommendations.length === 0) return batch;
    return {
      ...batch,
      recommendations: batch.recommendations.map((r) => {
        const items = diversify(r.items, topK, catalog, policy, vectorOf);
        return items === r.items ? r : { ...r, items };
      }),
    };
  });
}
