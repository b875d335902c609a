import type { ClickEvent, ItemEvent, ScoredItem } from '../event.js';
import { TimerHeap } from '../windowing/timer-heap.js';
import type { PushCandidate } from './types.js';

const minutes = (ms: number): string => `${Math.round(ms / 60_000)} min`;

/**
 * Abandoned cart: an `add_to_cart` with no purchase and no removal of that item by that user
 * within `delayMs` of event time. It fires when the watermark passes cart ts + delay, so a
 * purchase that arrives out of order but before the watermark still cancels it. A user's carts
 * due together become one notification, newest first.
 */
export class AbandonedCartTrigger {
  /** user → item → ts of the latest cart add still pending. */
  private readonly carts = new Map<string, Map<string, number>>();
  private readonly timers = new TimerHeap<{ userId: string; itemId: string; ts: number }>();

  constructor(private readonly delayMs: number) {}

  get pending(): number {
    let n = 0;
    for (const m of this.carts.values()) n += m.size;
    return n;
  }

  observe(e: ClickEvent): void {
    if (e.type === 'add_to_cart') {
      let items = this.carts.get(e.userId);
      if (!items) this.carts.set(e.userId, (items = new Map()));
      const prev = items.get(e.itemId);
      // A later add restarts the wait; an older one arriving late changes nothing.
      if (prev === undefined || e.ts > prev) {
        items.set(e.itemId, e.ts);
        this.timers.push(e.ts + this.delayMs, { userId: e.userId, itemId: e.itemId, ts: e.ts });
      }
    } else if (e.type === 'purchase' || e.type === 'remove_from_cart') {
      const items = this.carts.get(e.userId);
      const cartTs = items?.get(e.itemId);
      // Only a purchase or removal at or after the add settles it; an older one predates the cart.
      if (items && cartTs !== undefined && e.ts >= cartTs) {
        items.delete(e.itemId);
        if (items.size === 0) this.carts.delete(e.userId);
      }
    }
  }

  /** Carts whose deadline the watermark has passed, one candidate per user. */
  advance(watermark: number): PushCandidate[] {
    const due = new Map<string, { itemId: string; ts: number }[]>();
    while (this.timers.size > 0 && this.timers.peekTime() <= watermark) {
      const t = this.timers.pop();
      const items = this.carts.get(t.userId);
      // Lazy deletion: the timer is stale when the cart was settled or re-added since.
      if (items?.get(t.itemId) !== t.ts) continue;
      items.delete(t.itemId);
      if (items.size === 0) this.carts.delete(t.userId);
      const list = due.get(t.userId);
      if (list) list.push({ itemId: t.itemId, ts: t.ts });
      else due.set(t.userId, [{ itemId: t.itemId, ts: t.ts }]);
    }
    const out: PushCandidate[] = [];
    for (const [userId, list] of due) {
      list.sort((a, b) => b.ts - a.ts);
      const newest = list[0];
      out.push({
        userId,
        trigger: 'abandoned_cart',
        itemId: newest.itemId,
        itemIds: list.map((c) => c.itemId),
        ts: newest.ts + this.delayMs,
        detail: `${list.length} item(s) in cart for ${minutes(this.delayMs)} without a purchase`,
        vars: { count: String(list.length) },
      });
    }
    return out;
  }
}

interface CatalogState {
  price?: number;
  inStock?: boolean;
}

/**
 * Price drop and back in stock, from catalog updates: a price at least `minDropPct` % below the
 * item's last known catalog price, or `in_stock` going false → true, notifies every user who
 * viewed, clicked or carted the item within `interestTtlMs` before the update and has not bought
 * it since. Interest is kept for the most recent `maxUsersPerItem` users of each item.
 */
export class CatalogTrigger {
  private readonly state = new Map<string, CatalogState>();
  /** item → user → ts of the latest interest; insertion order is recency order. */
  private readonly interest = new Map<string, Map<string, number>>();

  constructor(
    private readonly opts: {
      readonly minDropPct: number;
      readonly interestTtlMs: number;
      readonly maxUsersPerItem?: number;
    },
  ) {}

  observe(e: ClickEvent): void {
    if (e.type === 'view' || e.type === 'click' || e.type === 'add_to_cart') {
      let users = this.interest.get(e.itemId);
      if (!users) this.interest.set(e.itemId, (users = new Map()));
      const prev = users.get(e.userId);
      if (prev !== undefined && prev >= e.ts) return;
      users.delete(e.userId);
      users.set(e.userId, e.ts);
      if (users.size > (this.opts.maxUsersPerItem ?? 10_000)) {
        const oldest = users.keys().next();
        if (!oldest.done) users.delete(oldest.value);
      }
    } else if (e.type === 'purchase') {
      // Telling a buyer that what they just bought got cheaper helps nobody.
      const users = this.interest.get(e.itemId);
      users?.delete(e.userId);
      if (users?.size === 0) this.interest.delete(e.itemId);
    }
  }

  onItem(item: ItemEvent): PushCandidate[] {
    let st = this.state.get(item.itemId);
    if (!st) this.state.set(item.itemId, (st = {}));
    const out: PushCandidate[] = [];
    if (item.price !== undefined && st.price !== undefined && st.price > 0) {
      const pct = (100 * (st.price - item.price)) / st.price;
      if (pct >= this.opts.minDropPct && pct > 0) {
        const vars = {
          old_price: st.price.toFixed(2),
          new_price: item.price.toFixed(2),
          pct: String(Math.round(pct)),
        };
        this.notify(
          item,
          'price_drop',
          out,
          `price ${vars.old_price} → ${vars.new_price} (−${vars.pct}%)`,
          vars,
        );
      }
    }
    if (item.inStock === true && st.inStock === false)
      this.notify(item, 'back_in_stock', out, 'back in stock');
    if (item.price !== undefined) st.price = item.price;
    if (item.inStock !== undefined) st.inStock = item.inStock;
    return out;
  }

  private notify(
    item: ItemEvent,
    trigger: 'price_drop' | 'back_in_stock',
    out: PushCandidate[],
    detail: string,
    vars?: Record<string, string>,
  ): void {
    const users = this.interest.get(item.itemId);
    if (!users) return;
    const since = item.ts - this.opts.interestTtlMs;
    for (const [userId, ts] of users) {
      if (ts < since || ts > item.ts) continue;
      out.push({
        userId,
        trigger,
        itemId: item.itemId,
        itemIds: [item.itemId],
        ts: item.ts,
        detail,
        ...(vars && { vars }),
      });
    }
  }
}

/** Reads the burst trigger needs from the feature store (kept narrow so tests can fake it). */
export interface BurstBaseline {
  /** The user's decayed affinity for the category as of `asOf` (0 when none). */
  affinity(userId: string, category: string, asOf: number): number;
  readonly halfLifeMs: number;
  /** The weight an event type adds to affinity. */
  weight(type: ClickEvent['type']): number;
}

/**
 * Interest burst: a user's events in one category within the last `windowMs` reach `minEvents`
 * and `ratio` × what their long-run affinity for that category predicts for such a window. The
 * affinity (FeatureStore, decayed with half-life H) of a steady stream of weight r per ms is
 * r·H/ln 2, so the window's expected weight is (affinity − the window's own weight)·W·ln 2 / H.
 * After firing, a (user, category) pair is quiet for one window.
 */
export class InterestBurstTrigger {
  /** `user\u0000category` → events in the window (ts, weight, item), oldest first. */
  private readonly recent = new Map<string, { ts: number; w: number; itemId: string }[]>();
  private readonly firedAt = new Map<string, number>();

  constructor(
    private readonly baseline: BurstBaseline,
    private readonly opts: {
      readonly windowMs: number;
      readonly minEvents: number;
      readonly ratio: number;
    },
  ) {}

  observe(e: ClickEvent, category: string | undefined): PushCandidate | undefined {
    if (category === undefined) return undefined;
    if (e.type === 'push_open' || e.type === 'push_click' || e.type === 'remove_from_cart')
      return undefined;
    const w = this.baseline.weight(e.type);
    if (!(w > 0)) return undefined;
    const key = `${e.userId}\u0000${category}`;
    let list = this.recent.get(key);
    if (!list) this.recent.set(key, (list = []));
    list.push({ ts: e.ts, w, itemId: e.itemId });
    const from = e.ts - this.opts.windowMs;
    let drop = 0;
    while (drop < list.length && list[drop].ts <= from) drop++;
    if (drop > 0) list.splice(0, drop);
    const fired = this.firedAt.get(key);
    if (fired !== undefined && e.ts - fired < this.opts.windowMs) return undefined;
    if (list.length < this.opts.minEvents) return undefined;
    let weight = 0;
    for (const x of list) weight += x.w;
    const affinity = this.baseline.affinity(e.userId, category, e.ts);
    const expected =
      (Math.max(0, affinity - weight) * this.opts.windowMs * Math.LN2) / this.baseline.halfLifeMs;
    if (weight < this.opts.ratio * expected) return undefined;
    this.firedAt.set(key, e.ts);
    const items: string[] = [];
    for (let i = list.length - 1; i >= 0; i--)
      if (!items.includes(list[i].itemId)) items.push(list[i].itemId);
    return {
      userId: e.userId,
      trigger: 'interest_burst',
      itemId: e.itemId,
      itemIds: items,
      ts: e.ts,
      detail: `${list.length} events in ${category} within ${minutes(this.opts.windowMs)} (expected ${expected.toFixed(2)} by weight)`,
      vars: { category, count: String(list.length) },
    };
  }

  /** Drops state older than the window (call with the watermark now and then). */
  sweep(watermark: number): void {
    const from = watermark - this.opts.windowMs;
    for (const [k, list] of this.recent) {
      if (list.length === 0 || list[list.length - 1].ts <= from) this.recent.delete(k);
    }
    for (const [k, ts] of this.firedAt) if (ts <= from) this.firedAt.delete(k);
  }
}

/**
 * A new recommendation worth pushing: the user's top item changed to one scoring at least
 * `minScore` that was never pushed to them. Only a change of the top item is a candidate, so a
 * user refreshed every batch with the same list yields one candidate, not one per batch.
 */
export class NewRecommendationTrigger {
  private readonly lastTop = new Map<string, string>();

  constructor(
    private readonly opts: { readonly minScore: number; readonly maxItems: number },
    private readonly pushedBefore: (userId: string, itemId: string) => boolean,
  ) {}

  observe(userId: string, items: readonly ScoredItem[], ts: number): PushCandidate | undefined {
    const top = items[0];
    if (top === undefined || this.lastTop.get(userId) === top.itemId) return undefined;
    this.lastTop.set(userId, top.itemId);
    if (!(top.score >= this.opts.minScore) || this.pushedBefore(userId, top.itemId))
      return undefined;
    const itemIds = items
      .filter((i) => i.score >= this.opts.minScore && !this.pushedBefore(userId, i.itemId))
      .slice(0, this.opts.maxItems)
      .map((i) => i.itemId);
    return {
      userId,
      trigger: 'new_recommendation',
      itemId: top.itemId,
      itemIds,
      ts,
      detail: `top recommendation ${top.itemId} scored ${top.score.toFixed(3)} (${top.reason})`,
      vars: { reason: top.reason },
    };
  }
}
