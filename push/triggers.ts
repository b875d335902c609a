import type { ClickEvent, ItemEvent, ScoredItem } from '../models/event.js';
import { TimerHeap } from '../stream/windowing/timer-heap.js';
import { idSetAdd, idSetDelete, idSetOldest, idSetSize, type IdSet } from './id-set.js';
import {
  deleteEntry,
  interestEntries,
  interestGet,
  interestKeys,
  setEntry,
  storeInterest,
} from './interest.js';
import type { PushCandidate } from './types.js';
import {
  recentDelete,
  recentEntries,
  recentFirst,
  recentGet,
  recentSet,
  recentSize,
} from './recent-map.js';
import {
  findWindow,
  readWindow,
  setBurstFiredAt,
  sweepWindows,
  windowSize,
  withWindowLast,
  type BurstList,
  type BurstWindow,
} from './burst-list.js';
import { USER_BOUNDS, type UserPushState } from './user-state.js';

/** The burst list of a user without windows (read only). */
const NO_WINDOWS: BurstList = [];

const minutes = (ms: number): string => `${Math.round(ms / 60_000)} min`;

/** Drops the oldest entries (insertion order = recency order) beyond `max`. */
function capMap<K, V>(m: Map<K, V>, max: number): void {
  while (m.size > max) {
    const oldest = m.keys().next();
    if (oldest.done) return;
    m.delete(oldest.value);
  }
}

/**
 * Abandoned cart: an `add_to_cart` with no purchase and no removal of that item by that user
 * within `delayMs` of event time. It fires when the watermark passes cart ts + delay, so a
 * purchase that arrives out of order but before the watermark still cancels it. A user's carts
 * due together become one notification, newest first. Pending carts live in the user's state
 * (at most USER_BOUNDS.carts, oldest dropped); the timers here are lazily deleted, so a timer of
 * a settled, re-added or forgotten cart is skipped when it comes due.
 */
export class AbandonedCartTrigger {
  private readonly timers = new TimerHeap<{ userId: string; itemId: string; ts: number }>();

  constructor(private readonly delayMs: number) {}

  get pendingTimers(): number {
    return this.timers.size;
  }

  observe(e: ClickEvent, s: UserPushState): void {
    if (e.type === 'add_to_cart') {
      let items = (s.carts ??= []);
      const prev = recentGet(items, e.itemId);
      // A later add restarts the wait; an older one arriving late changes nothing.
      if (prev === undefined || e.ts > prev) {
        recentDelete(items, e.itemId);
        s.carts = items = recentSet(items, e.itemId, e.ts);
        while (recentSize(items) > USER_BOUNDS.carts)
          recentDelete(items, recentFirst(items) as string);
        this.timers.push(e.ts + this.delayMs, { userId: e.userId, itemId: e.itemId, ts: e.ts });
      }
    } else if (e.type === 'purchase' || e.type === 'remove_from_cart') {
      const cartTs = s.carts && recentGet(s.carts, e.itemId);
      // Only a purchase or removal at or after the add settles it; an older one predates the cart.
      if (s.carts && cartTs !== undefined && e.ts >= cartTs) recentDelete(s.carts, e.itemId);
    }
  }

  /** Re-arms the timers of a restored user's carts. */
  rearm(userId: string, s: UserPushState): void {
    for (const [itemId, ts] of recentEntries(s.carts ?? []))
      this.timers.push(ts + this.delayMs, { userId, itemId, ts });
  }

  /** Carts whose deadline the watermark has passed, one candidate per user. */
  advance(
    watermark: number,
    stateOf: (userId: string) => UserPushState | undefined,
  ): PushCandidate[] {
    const due = new Map<string, { itemId: string; ts: number }[]>();
    while (this.timers.size > 0 && this.timers.peekTime() <= watermark) {
      const t = this.timers.pop();
      const carts = stateOf(t.userId)?.carts;
      // Lazy deletion: the timer is stale when the cart was settled or re-added since.
      if (!carts || recentGet(carts, t.itemId) !== t.ts) continue;
      recentDelete(carts, t.itemId);
      const list = due.get(t.userId);
      if (list) list.push({ itemId: t.itemId, ts: t.ts });
      else due.set(t.userId, [{ itemId: t.itemId, ts: t.ts }]);
    }
    const out: PushCandidate[] = [];
    for (const [userId, list] of due) {
      list.sort((a, b) => b.ts - a.ts);
      const newest = list[0] as { itemId: string; ts: number };
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
 * it since. Each user's interest (item → ts) is in their state (at most USER_BOUNDS.interest
 * items); `index` maps an item to its interested users, at most `maxUsersPerItem` (the most
 * recent). Catalog state: one entry per item, at most `maxItems` (least recently updated dropped).
 */
export class CatalogTrigger {
  private readonly state = new Map<string, CatalogState>();
  private readonly index = new Map<string, IdSet>();

  constructor(
    private readonly opts: {
      readonly minDropPct: number;
      readonly interestTtlMs: number;
      readonly maxUsersPerItem?: number;
      readonly maxItems?: number;
    },
  ) {}

  observe(e: ClickEvent, s: UserPushState): void {
    if (e.type === 'view' || e.type === 'click' || e.type === 'add_to_cart') {
      const prev = interestGet(s, e.itemId);
      if (prev !== undefined && prev >= e.ts) return;
      // deleted and set again: the item goes last, as a Map would order it
      const mine = interestEntries(s);
      deleteEntry(mine, e.itemId);
      setEntry(mine, e.itemId, e.ts);
      const over = Math.max(0, mine.keys.length - USER_BOUNDS.interest);
      const dropped = mine.keys.splice(0, over);
      mine.times.splice(0, over);
      storeInterest(s, mine);
      for (const oldest of dropped) this.unindex(oldest, e.userId);
      let users = this.index.get(e.itemId) ?? [];
      idSetDelete(users, e.userId);
      // The id string PushUsers keys the user by (lruId), not this event's equal copy: ids longer
      // than 10 characters are a new string per parsed event, 32 B more per user (issue 12).
      users = idSetAdd(users, s.lruId === e.userId ? s.lruId : e.userId);
      this.index.set(e.itemId, users);
      if (idSetSize(users) > (this.opts.maxUsersPerItem ?? 10_000)) {
        const oldest = idSetOldest(users);
        if (oldest !== undefined) idSetDelete(users, oldest);
      }
    } else if (e.type === 'purchase') {
      // Telling a buyer that what they just bought got cheaper helps nobody.
      if (interestGet(s, e.itemId) !== undefined) {
        const mine = interestEntries(s);
        deleteEntry(mine, e.itemId);
        storeInterest(s, mine);
        this.unindex(e.itemId, e.userId);
      }
    }
  }

  private unindex(itemId: string, userId: string): void {
    const users = this.index.get(itemId);
    if (!users) return;
    idSetDelete(users, userId);
    if (idSetSize(users) === 0) this.index.delete(itemId);
  }

  /** Puts a restored user back into the item index. */
  reindex(userId: string, s: UserPushState): void {
    for (const itemId of interestKeys(s)) {
      const users = idSetAdd(this.index.get(itemId) ?? [], userId);
      this.index.set(itemId, users);
      // The same bound as observe(): the most recent users per item.
      if (idSetSize(users) > (this.opts.maxUsersPerItem ?? 10_000)) {
        const oldest = idSetOldest(users);
        if (oldest !== undefined) idSetDelete(users, oldest);
      }
    }
  }

  /** Removes a user that leaves (evicted, expired, forgotten) from the item index. */
  dropUser(userId: string, s: UserPushState): void {
    for (const itemId of interestKeys(s)) this.unindex(itemId, userId);
  }

  onItem(item: ItemEvent, stateOf: (userId: string) => UserPushState | undefined): PushCandidate[] {
    let st = this.state.get(item.itemId);
    if (st) this.state.delete(item.itemId);
    else st = {};
    this.state.set(item.itemId, st);
    capMap(this.state, this.opts.maxItems ?? 1_000_000);
    const out: PushCandidate[] = [];
    if (item.price !== undefined && st.price !== undefined && st.price > 0) {
      const pct = (100 * (st.price - item.price)) / st.price;
      if (pct >= this.opts.minDropPct && pct > 0) {
        const vars = {
          old_price: st.price.toFixed(2),
          new_price: item.price.toFixed(2),
          pct: String(Math.round(pct)),
        };
        const detail = `price ${vars.old_price} → ${vars.new_price} (−${vars.pct}%)`;
        this.notify(item, 'price_drop', out, stateOf, detail, vars);
      }
    }
    if (item.inStock === true && st.inStock === false)
      this.notify(item, 'back_in_stock', out, stateOf, 'back in stock');
    if (item.price !== undefined) st.price = item.price;
    if (item.inStock !== undefined) st.inStock = item.inStock;
    return out;
  }

  private notify(
    item: ItemEvent,
    trigger: 'price_drop' | 'back_in_stock',
    out: PushCandidate[],
    stateOf: (userId: string) => UserPushState | undefined,
    detail: string,
    vars?: Record<string, string>,
  ): void {
    const users = this.index.get(item.itemId);
    if (!users) return;
    const since = item.ts - this.opts.interestTtlMs;
    for (const userId of users) {
      const st = stateOf(userId);
      const ts = st && interestGet(st, item.itemId);
      if (ts === undefined || ts < since || ts > item.ts) continue;
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
 * After firing, a (user, category) pair is quiet for one window. The windows are in the user's
 * state: at most USER_BOUNDS.burstCategories categories and USER_BOUNDS.burstEvents events each
 * (a window with more events than that fired long before it got there).
 */
export class InterestBurstTrigger {
  constructor(
    private readonly baseline: BurstBaseline,
    private readonly opts: {
      readonly windowMs: number;
      readonly minEvents: number;
      readonly ratio: number;
    },
  ) {}

  observe(
    e: ClickEvent,
    category: string | undefined,
    s: UserPushState,
  ): PushCandidate | undefined {
    if (category === undefined) return undefined;
    if (e.type === 'push_open' || e.type === 'push_click' || e.type === 'remove_from_cart')
      return undefined;
    const w = this.baseline.weight(e.type);
    if (!(w > 0)) return undefined;
    // touched last, as a Map's delete and set would order it
    const list = s.bursts ?? NO_WINDOWS;
    const at = findWindow(list, category);
    const win: BurstWindow =
      at >= 0
        ? readWindow(list, at)
        : { category, firedAt: -Infinity, items: [], times: [], weights: [] };
    win.items.push(e.itemId);
    win.times.push(e.ts);
    win.weights.push(w);
    const from = e.ts - this.opts.windowMs;
    let count = win.items.length;
    let drop = Math.max(0, count - USER_BOUNDS.burstEvents);
    while (drop < count && (win.times[drop] as number) <= from) drop++;
    if (drop > 0) {
      win.items.splice(0, drop);
      win.times.splice(0, drop);
      win.weights.splice(0, drop);
      count -= drop;
    }
    const bursts = withWindowLast(list, at, win, USER_BOUNDS.burstCategories);
    s.bursts = bursts;
    const firedAt = win.firedAt;
    if (e.ts - firedAt < this.opts.windowMs) return undefined;
    if (count < this.opts.minEvents) return undefined;
    let weight = 0;
    for (const x of win.weights) weight += x;
    const affinity = this.baseline.affinity(e.userId, category, e.ts);
    const expected =
      (Math.max(0, affinity - weight) * this.opts.windowMs * Math.LN2) / this.baseline.halfLifeMs;
    if (weight < this.opts.ratio * expected) return undefined;
    // the window is the list's last
    setBurstFiredAt(bursts, bursts.length - windowSize(win), e.ts);
    const items: string[] = [];
    for (let i = win.items.length - 1; i >= 0; i--)
      if (!items.includes(win.items[i] as string)) items.push(win.items[i] as string);
    return {
      userId: e.userId,
      trigger: 'interest_burst',
      itemId: e.itemId,
      itemIds: items,
      ts: e.ts,
      detail: `${count} events in ${category} within ${minutes(this.opts.windowMs)} (expected ${expected.toFixed(2)} by weight)`,
      vars: { category, count: String(count) },
    };
  }

  /** Drops the user's windows with nothing left in them. */
  sweep(s: UserPushState, watermark: number): void {
    const list = s.bursts;
    if (!list) return;
    s.bursts = sweepWindows(list, watermark - this.opts.windowMs);
  }
}

/**
 * A new recommendation worth pushing: the user's top item changed to one scoring at least
 * `minScore` that was never pushed to them. Only a change of the top item is a candidate, so a
 * user refreshed every batch with the same list yields one candidate, not one per batch.
 */
export class NewRecommendationTrigger {
  constructor(private readonly opts: { readonly minScore: number; readonly maxItems: number }) {}

  observe(
    userId: string,
    items: readonly ScoredItem[],
    ts: number,
    s: UserPushState,
  ): PushCandidate | undefined {
    const top = items[0];
    if (top === undefined || s.lastTop === top.itemId) return undefined;
    s.lastTop = top.itemId;
    const pushed = s.pushedItems;
    if (!(top.score >= this.opts.minScore) || pushed?.includes(top.itemId)) return undefined;
    const itemIds = items
      .filter((i) => i.score >= this.opts.minScore && !pushed?.includes(i.itemId))
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
