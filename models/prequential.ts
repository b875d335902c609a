import type { ClickEvent } from './event.js';
import { LruMap } from './core/lru-map.js';
import type { Recommender } from './recommender.js';

/** One point of the learning curve: metrics over a window of evaluated events. */
export interface PrequentialPoint {
  /** Evaluated events so far (end of the window). */
  readonly evaluated: number;
  /** Event time of the last evaluated event in the window (epoch ms). */
  readonly ts: number;
  /** HR@K and NDCG@K within the window. */
  readonly hr: number;
  readonly ndcg: number;
  /** HR@K over everything evaluated so far. */
  readonly hrCumulative: number;
}

export interface PrequentialSummary {
  readonly k: number;
  readonly evaluated: number;
  readonly hits: number;
  readonly hr: number;
  readonly ndcg: number;
}

export interface PrequentialOptions {
  /** Evaluated events per time-series point (default 1000). */
  window?: number;
  /**
   * Users remembered (config `limits.users`), least recently active forgotten first: a forgotten
   * user's next event counts as their first. Default: unbounded (an offline run over a file).
   */
  maxUsers?: number;
  /** Bought and carted items remembered per user, oldest forgotten first (default 1000). */
  maxItemsPerUser?: number;
}

interface UserState {
  /** Items the user purchased: excluded from the recommendations. */
  readonly bought: Set<string>;
  /** Items the user put in the cart: not evaluated again, but still recommendable. */
  carted: Set<string> | undefined;
}

/**
 * CONTRACT §3, test-then-train. For every event, in stream order:
 *  - it is a test case when its type is `purchase` or `add_to_cart`, its user had an earlier
 *    event, and the user has neither bought nor carted the item before;
 *  - a test case asks the recommender for the user's top K, excluding what the user bought;
 *    a hit when the item is in the list, NDCG 1/log2(rank + 2) with rank counted from 0;
 *  - then the recommender learns from the event, test case or not.
 * Duplicate event ids must be removed before this (the runtime dedupes).
 */
export class PrequentialEvaluator {
  private readonly users: LruMap<string, UserState>;
  private readonly perUser: number;
  private nEvaluated = 0;
  private nHits = 0;
  private dcg = 0;
  private readonly window: number;
  private wEvaluated = 0;
  private wHits = 0;
  private wDcg = 0;
  private readonly points: PrequentialPoint[] = [];

  constructor(
    readonly k: number,
    opts: PrequentialOptions = {},
  ) {
    if (!(Number.isInteger(k) && k >= 1))
      throw new RangeError(`k must be an integer >= 1, got ${k}`);
    this.window = opts.window ?? 1000;
    this.users = new LruMap(opts.maxUsers ?? Number.MAX_SAFE_INTEGER);
    this.perUser = opts.maxItemsPerUser ?? 1000;
  }

  step(event: ClickEvent, rec: Recommender): void {
    const isPurchase = event.type === 'purchase';
    const isCart = event.type === 'add_to_cart';
    let state = this.users.get(event.userId);
    if (
      state !== undefined &&
      (isPurchase || isCart) &&
      !state.bought.has(event.itemId) &&
      !(state.carted !== undefined && state.carted.has(event.itemId))
    ) {
      this.test(event, rec.recommend(event.userId, this.k, state.bought));
    }
    rec.learn(event);
    if (state === undefined) {
      state = { bought: new Set(), carted: undefined };
      this.users.set(event.userId, state);
    }
    if (isPurchase) this.remember(state.bought, event.itemId);
    else if (isCart) this.remember((state.carted ??= new Set()), event.itemId);
  }

  private remember(set: Set<string>, itemId: string): void {
    set.add(itemId);
    if (set.size > this.perUser) set.delete(set.values().next().value as string);
  }

  private test(event: ClickEvent, list: readonly { readonly itemId: string }[]): void {
    let gain = 0;
    const n = Math.min(list.length, this.k);
    for (let rank = 0; rank < n; rank++) {
      if (list[rank].itemId === event.itemId) {
        gain = 1 / Math.log2(rank + 2);
        break;
      }
    }
    this.nEvaluated++;
    this.wEvaluated++;
    if (gain > 0) {
      this.nHits++;
      this.wHits++;
      this.dcg += gain;
      this.wDcg += gain;
    }
    if (this.wEvaluated === this.window) {
      this.points.push({
        evaluated: this.nEvaluated,
        ts: event.ts,
        hr: this.wHits / this.wEvaluated,
        ndcg: this.wDcg / this.wEvaluated,
        hrCumulative: this.nHits / this.nEvaluated,
      });
      this.wEvaluated = 0;
      this.wHits = 0;
      this.wDcg = 0;
    }
  }

  /** Erases a user's remembered history (right to erasure). */
  forgetUser(userId: string): boolean {
    return this.users.delete(userId);
  }

  summary(): PrequentialSummary {
    const n = this.nEvaluated;
    return {
      k: this.k,
      evaluated: n,
      hits: this.nHits,
      hr: n === 0 ? 0 : this.nHits / n,
      ndcg: n === 0 ? 0 : this.dcg / n,
    };
  }

  /** Learning curve, one point per `window` evaluated events (the last partial window is left out). */
  series(): readonly PrequentialPoint[] {
    return this.points;
  }
}
