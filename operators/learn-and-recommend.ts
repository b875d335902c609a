import { map, type OperatorFunction } from 'rxjs';
import { allSteps } from '../models/core/steps.js';
import type { ClickEvent } from '../models/event.js';
import type { PurchaseHistory } from '../models/purchase-history.js';
import type { Recommender } from '../models/recommender.js';
import type { GraphBatch, ServedRecommendation, SourcedEvent } from './types.js';
import { SLICE_MS, inSlices, neverDue } from './yield-turn.js';

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
  /**
   * Awaited after every `usersPerTurn` refreshed lists (run passes a macrotask): a backlog batch
   * refreshes thousands of lists, one turn of the event loop each time otherwise. Without it the
   * operator is synchronous, as replay needs.
   */
  readonly turn?: () => Promise<void>;
  /** Default 64 users (a list costs 1-1.5 ms late in a soak, GC included). */
  readonly usersPerTurn?: number;
  /**
   * Events learned per turn, default 256: learning a backlog batch of 2,000 events (with the
   * online evaluation's test before each) was one 0.4-0.9 s stretch.
   */
  readonly eventsPerTurn?: number;
  /** And a turn whenever this much time went by since the last one (default SLICE_MS). */
  readonly sliceMs?: number;
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
  const learnEvent = (sourced: SourcedEvent, into: Learning): void => {
    const event = sourced.event;
    if (shouldLearn === undefined || shouldLearn(sourced)) learn(event);
    if (history.record(event)) {
      const list = into.purchases.get(event.userId);
      if (list) list.push(event.itemId);
      else into.purchases.set(event.userId, [event.itemId]);
    }
    into.touched.set(event.userId, Math.max(into.touched.get(event.userId) ?? 0, event.ts));
  };
  const begin = (batch: GraphBatch): Learning => {
    // catalog first: a title or category that arrives with the batch counts for its refreshes
    if (recommender.learnItem) for (const item of batch.items) recommender.learnItem(item);
    return { touched: new Map(), purchases: new Map() };
  };
  const learned = (l: Learning): Learned => {
    const version = typeof modelVersion === 'string' ? modelVersion : modelVersion();
    return { ...l, version, updatedAt: now() };
  };
  const refresh = (l: Learned, userId: string, eventTs: number): ServedRecommendation => ({
    userId,
    items: recommender.recommend(userId, topK, history.boughtBy(userId)),
    modelVersion: l.version,
    eventTs,
    updatedAt: l.updatedAt,
  });
  const perTurn = Math.max(1, opts.usersPerTurn ?? 64);
  const eventsPerTurn = Math.max(1, opts.eventsPerTurn ?? 256);
  // run's pass in steps: learning a backlog batch and refreshing its lists were long stretches
  // of the loop. A step ends after a count of events or lists or a slice of time; no turn
  // follows the last event or list, where it would only delay the batch. Replay runs the same
  // steps to the end at once.
  function* passSteps(
    batch: GraphBatch,
    due: () => boolean,
  ): Generator<void, GraphBatch, undefined> {
    const learning = begin(batch);
    const events = batch.events;
    for (let i = 0; i < events.length; i++) {
      learnEvent(events[i] as SourcedEvent, learning);
      if (i + 1 < events.length && ((i + 1) % eventsPerTurn === 0 || due())) yield;
    }
    const l = learned(learning);
    const recommendations: ServedRecommendation[] = [];
    for (const [userId, eventTs] of l.touched) {
      recommendations.push(refresh(l, userId, eventTs));
      const n = recommendations.length;
      if (n < l.touched.size && (n % perTurn === 0 || due())) yield;
    }
    return { ...batch, recommendations, purchases: l.purchases };
  }
  return opts.turn === undefined
    ? map((batch) => allSteps(passSteps(batch, neverDue)))
    : inSlices(opts.turn, opts.sliceMs ?? SLICE_MS, passSteps);
}

/** What a batch's learning gathers: each touched user's newest event time, new purchases. */
interface Learning {
  readonly touched: Map<string, number>;
  readonly purchases: Map<string, string[]>;
}

interface Learned {
  readonly touched: ReadonlyMap<string, number>;
  readonly purchases: Map<string, string[]>;
  readonly version: string;
  readonly updatedAt: number;
}
