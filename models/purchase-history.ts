import type { ClickEvent } from './event.js';

/**
 * Items each user bought: recommendations never repeat them. The runtime hydrates users from Redis
 * before their batch is processed, so exclusions survive restarts.
 */
export class PurchaseHistory {
  private readonly bought = new Map<string, Set<string>>();
  private static readonly NONE: ReadonlySet<string> = new Set();

  /** Returns true when this was a new purchase for the user. */
  record(event: ClickEvent): boolean {
    if (event.type !== 'purchase') return false;
    let items = this.bought.get(event.userId);
    if (!items) this.bought.set(event.userId, (items = new Set()));
    if (items.has(event.itemId)) return false;
    items.add(event.itemId);
    return true;
  }

  boughtBy(userId: string): ReadonlySet<string> {
    return this.bought.get(userId) ?? PurchaseHistory.NONE;
  }

  has(userId: string): boolean {
    return this.bought.has(userId);
  }

  /** Merges persisted history (from Redis) into memory. */
  hydrate(userId: string, items: Iterable<string>): void {
    let set = this.bought.get(userId);
    if (!set) this.bought.set(userId, (set = new Set()));
    for (const i of items) set.add(i);
  }

  get users(): number {
    return this.bought.size;
  }
}
