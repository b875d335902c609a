import { RecencyList } from './recency-list.js';
import { UserScalars } from './user-scalars.js';
import { UserPushState } from './user-state.js';

/**
 * The users' push states: at most `maxUsers` (least recently seen evicted first) and none idle
 * for more than `ttlMs` of event time. `onDrop` lets the engine unindex a user that leaves (item
 * interest index).
 *
 * Recency order is a RecencyList through the states themselves, so the Map is written once per
 * user and only finds a user's state. The users' scalars live in `scalars` (user-scalars.ts), a
 * slot per user, given back when the user leaves.
 */
export class PushUsers {
  private readonly users = new Map<string, UserPushState>();
  private readonly order = new RecencyList<UserPushState>();
  /** Bound: a slot per user in `users` (at most `maxUsers`). */
  private readonly scalars = new UserScalars();
  /**
   * Users whose state changed (or went) since the last takeChanged(), for the changelog (issue
   * 13); undefined while not tracked. Bounded by the users themselves: at most every user plus
   * those dropped since the last take.
   */
  private changed: Set<string> | undefined;

  constructor(
    private readonly maxUsers: number,
    private readonly ttlMs: number,
    private readonly onDrop: (userId: string, s: UserPushState) => void,
  ) {}

  get size(): number {
    return this.users.size;
  }

  /** The user's state; `change`: the caller is about to modify it. */
  get(userId: string, change = false): UserPushState | undefined {
    const s = this.users.get(userId);
    if (change && s) this.changed?.add(userId);
    return s;
  }

  trackChanges(): void {
    this.changed ??= new Set();
  }

  /** The users changed or dropped since the last call (see `changed`). */
  takeChanged(): string[] {
    if (!this.changed || this.changed.size === 0) return [];
    const out = [...this.changed];
    this.changed.clear();
    return out;
  }

  /** Forgets that the user changed (their state was just restored from the changelog). */
  unmark(userId: string): void {
    this.changed?.delete(userId);
  }

  /** The user's state, created when missing, marked as seen at `ts`. */
  touch(userId: string, ts: number): UserPushState {
    let s = this.users.get(userId);
    if (s) {
      // as the Map's delete and re-insert did: a walk past the user visits it again
      this.order.unlink(s);
      this.order.append(s);
    } else {
      if (this.users.size >= this.maxUsers) this.evictOldest();
      s = new UserPushState(this.scalars);
      this.insert(userId, s);
    }
    this.changed?.add(userId);
    if (ts > s.lastSeen) s.lastSeen = ts;
    return s;
  }

  set(userId: string, s: UserPushState): void {
    this.delete(userId);
    if (this.users.size >= this.maxUsers) this.evictOldest();
    this.insert(userId, s);
    this.changed?.add(userId);
  }

  delete(userId: string): boolean {
    const s = this.users.get(userId);
    if (!s) return false;
    this.users.delete(userId);
    this.order.unlink(s);
    this.changed?.add(userId);
    this.onDrop(userId, s);
    // whoever still holds the state keeps its values; the slot goes to the next user
    const slot = s.slotIn(this.scalars);
    if (slot >= 0) {
      const own = new UserScalars();
      s.moveScalars(own, own.alloc());
      this.scalars.release(slot);
    }
    return true;
  }

  /**
   * The next user of a round-robin walk in recency order (the engine's tidy-up), or undefined
   * when the walk has reached the end (the next call starts a new walk from the oldest).
   */
  tidyNext(): UserPushState | undefined {
    return this.order.walkNext();
  }

  /** The users, least recently seen first. */
  *entries(): IterableIterator<[string, UserPushState]> {
    for (let s = this.order.oldest; s; s = s.lruNext) yield [s.lruId, s];
  }

  /** Drops users idle past the TTL, oldest first (recency order ≈ event-time order). */
  sweep(watermark: number): void {
    for (let s = this.order.oldest; s; s = this.order.oldest) {
      if (s.lastSeen >= watermark - this.ttlMs) break;
      this.delete(s.lruId);
    }
  }

  private evictOldest(): void {
    const s = this.order.oldest;
    if (s) this.delete(s.lruId);
  }

  private insert(userId: string, s: UserPushState): void {
    if (s.slotIn(this.scalars) < 0) s.moveScalars(this.scalars, this.scalars.alloc());
    s.lruId = userId;
    this.users.set(userId, s);
    this.order.append(s);
  }
}
