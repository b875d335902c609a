import { map, type OperatorFunction } from 'rxjs';
import type { ClickEvent } from '../models/event.js';
import type { PurchaseHistory } from '../models/purchase-history.js';
import type { Recommender } from '../models/recommender.js';
import type { GraphBatch, ServedRecommendation, SourcedEvent } from './types.js';

export interface LearnAndRecommendOptions {
  readonly recommender: Recommender;
  readonly history: PurchaseHistory;
  readonly topK: number;
  /** A function when the model can change under the stream (a hot-swapped ranker). */
  readonly modelVersion: string | (() => string);
  /** How an event is learned; replay's prequential evaluator tests before it trains here. */
  readonly learn?: (event: ClickEvent) => void;
  /**
   * False for an event the model already holds (learned before its partition moved here, or
   * before the snapshot it was restored from): it is served and recorded, not learned again.
   */
  readonly shouldLearn?: (event: SourcedEvent) => boolean;
  readonly now?: () => number;
}

/**
 * Learns from every accepted event in stream order, then refreshes the top-K of each user the
 * batch touched (once per user per batch: the latest state is what gets served).
 *
 * ```
 * source: --a{u1 view i1, u1 view i2, u2 click i1}--b{}--|
 *     learnAndRecommend({ recommender, history, topK: 10, modelVersion })
 * result: --a{recommendations: u1 [..], u2 [..]}-----b{recommendations: []}--|
 * ```
 *
 * @example
 * accepted.pipe(learnAndRecommend({ recommender, history, topK: 20, modelVersion: 'default@1' }));
 */
export function learnAndRecommend(
  opts: LearnAndRecommendOptions,
): OperatorFunction<GraphBatch, GraphBatch> {
  const { recommender, history, topK, modelVersion } = opts;
  const learn = opts.learn ?? ((e: ClickEvent) => recommender.learn(e));
  const now = opts.now ?? Date.now;
  const shouldLearn = opts.shouldLearn;
  return map((batch) => {
    // catalog first: a title or category that arrives with the batch counts for its refreshes
    if (recommender.learnItem) for (const item of batch.items) recommender.learnItem(item);
    const touched = new Map<string, number>();
    const purchases = new Map<string, string[]>();
    for (const sourced of batch.events) {
      const event = sourced.event;
      if (shouldLearn === undefined || shouldLearn(sourced)) learn(event);
      if (history.record(event)) {
        const list = purchases.get(event.userId);
        if (list) list.push(event.itemId);
        else purchases.set(event.userId, [event.itemId]);
      }
      touched.set(event.userId, Math.max(touched.get(event.userId) ?? 0, event.ts));
    }
    const recommendations: ServedRecommendation[] = [];
    const updatedAt = now();
    const version = typeof modelVersion === 'string' ? modelVersion : modelVersion();
    for (const [userId, eventTs] of touched) {
      const items = recommender.recommend(userId, topK, history.boughtBy(userId));
      recommendations.push({ userId, items, modelVersion: version, eventTs, updatedAt });
    }
    return { ...batch, recommendations, purchases };
  });
}
