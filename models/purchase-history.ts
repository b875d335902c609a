import type { ClickEvent } from './event.js';
import { DEFAULT_MAX_USERS, LruMap } from './core/lru-map.js';

export interface PurchaseHistoryLimits {
  /** Users kept in memory, least recently active forgotten first (config `limits.users`). */
  readonly users?: number;
  /** Purchases kept per user, oldest forgotten first (config `limits.purchasesPerUser`). */
  readonly perUser?: number;
  /** Called for each user forgotten to make room, so the runtime can reload them when they return. */
  readonly onForget?: (userId: string) => void;
}

/**
 * Items each user bought: recommendations never repeat them. The runtime hydrates users from Redis
 * before their batch is processed, so exclusions survive restarts. Bounded: at most `users` users
 * (LRU) and `perUser` purchases each; Redis keeps the full set, so a forgotten user is loaded
 * again on their next event.
 *
 * Most buyers bought one item: that is kept as the item's id itself, and a Set (about 150 B with
 * its table) only from the second item (issue 12).
 */
export class PurchaseHistory {
  private readonly bought: LruMap<string, string | Set<string>>;
  private readonly perUser: number;
  private static readonly NONE: ReadonlySet<string> = new Set();

  constructor(limits: PurchaseHistoryLimits = {}) {
    const onForget = limits.onForget;
    this.bought = new LruMap(
      limits.users ?? DEFAULT_MAX_USERS,
      onForget ? (userId) => onForget(userId) : undefined,
    );
    this.perUser = limits.perUser ?? 1_000;
  }

  /** Returns true when this was a new purchase for the user. */
  record(event: ClickEvent): boolean {
    if (event.type !== 'purchase') return false;
    return this.put(event.userId, event.itemId);
  }

  boughtBy(userId: string): ReadonlySet<string> {
    const v = this.bought.peek(userId);
    if (v === undefined) return PurchaseHistory.NONE;
    return typeof v === 'string' ? new OneItem(v) : v;
  }

  has(userId: string): boolean {
    return this.bought.has(userId);
  }

  /** Merges persisted history (from Redis) into memory. */
  hydrate(userId: string, items: Iterable<string>): void {
    let any = false;
    for (const i of items) {
      this.put(userId, i);
      any = true;
    }
    // a user with no purchases is still known (has()), as an empty Set made them before
    if (!any && this.bought.get(userId) === undefined) this.bought.set(userId, new Set());
  }

  /** Erases the user's purchases from memory (right to erasure; no onForget call). */
  erase(userId: string): boolean {
    return this.bought.delete(userId);
  }

  get users(): number {
    return this.bought.size;
  }

  /** Users forgotten to stay within the cap since start. */
  get forgotten(): number {
    return this.bought.evicted;
  }

  /** Adds a purchase (the user becomes the most recently used); false when already there. */
  private put(userId: string, itemId: string): boolean {
    const cur = this.bought.get(userId);
    if (cur === undefined) {
      this.bought.set(userId, itemId);
      return true;
    }
    let set: Set<string>;
    if (typeof cur === 'string') {
      if (cur === itemId) return false;
      set = new Set([cur]);
      this.bought.set(userId, set);
    } else {
      if (cur.has(itemId)) return false;
      set = cur;
    }
    set.add(itemId);
    // a Set iterates in insertion order: the first is the oldest purchase
    if (set.size > this.perUser) set.delete(set.values().next().value as string);
    return true;
  }
}

/** A one-item read-only set, made when asked for: what a single purchase is read as. */
class OneItem implements ReadonlySet<string> {
  readonly size = 1;
  constructor(private readonly item: string) {}
  has(value: string): boolean {
    return value === this.item;
  }
  forEach(fn: (value: string, key: string, set: ReadonlySet<string>) => void): void {
    fn(this.item, this.item, this);
  }
  *entries(): IterableIterator<[string, string]> {
    yield [this.item, this.item];
  }
  *keys(): IterableIterator<string> {
    yield this.item;
  }
  *values(): IterableIterator<string> {
    yield this.item;
  }
  [Symbol.iterator](): IterableIterator<string> {
    return this.values();
  }
}
