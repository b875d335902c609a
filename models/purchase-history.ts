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
 */
export class PurchaseHistory {
  private readonly bought: LruMap<string, Set<string>>;
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
    const items = this.setOf(event.userId);
    if (items.has(event.itemId)) return false;
    this.add(items, event.itemId);
    return true;
  }

  boughtBy(userId: string): ReadonlySet<string> {
    return this.bought.peek(userId) ?? PurchaseHistory.NONE;
  }

  has(userId: string): boolean {
    return this.bought.has(userId);
  }

  /** Merges persisted history (from Redis) into memory. */
  hydrate(userId: string, items: Iterable<string>): void {
    const set = this.setOf(userId);
    for (const i of items) if (!set.has(i)) this.add(set, i);
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

  private setOf(userId: string): Set<string> {
    let set = this.bought.get(userId);
    if (!set) this.bought.set(userId, (set = new Set()));
    return set;
  }

  private add(set: Set<string>, itemId: string): void {
    set.add(itemId);
    // a Set iterates in insertion order: the first is the oldest purchase
    if (set.size > this.perUser) set.delete(set.values().next().value as string);
  }
}
