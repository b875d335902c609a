import { map, type OperatorFunction } from 'rxjs';
import {
  filterAndBoost,
  type CatalogState,
  type ServingPolicyConfig,
} from '../models/ranking/policy.js';
import type { GraphBatch } from './types.js';

/**
 * Serving filters on each refreshed list: out-of-stock items (from catalog events of this batch
 * and earlier ones) and repeats are dropped, configured boosts re-rank. The catalog state is
 * updated from the batch's catalog events first, so a stock change and a refresh in one batch
 * agree; click events never change it (issue 12: a click must not re-categorise a rival's item).
 *
 * ```
 * source: --a{items: i2 out of stock; u1 [i1,i2,i3]}--b{u2 [i2,i4]}--|
 *     filterRecommendations(catalog, policy)
 * result: --a{u1 [i1,i3]}-----------------------------b{u2 [i4]}--|
 * ```
 *
 * @example
 * learned.pipe(filterRecommendations(catalog, policy));
 */
export function filterRecommendations(
  catalog: CatalogState,
  policy: ServingPolicyConfig,
): OperatorFunction<GraphBatch, GraphBatch> {
  return map((batch) => {
    for (const item of batch.items) catalog.observeItem(item);
    if (batch.recommendations.length === 0) return batch;
    return {
      ...batch,
      recommendations: batch.recommendations.map((r) => {
        const items = filterAndBoost(r.items, catalog, policy);
        return items === r.items ? r : { ...r, items };
      }),
    };
  });
}
