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
