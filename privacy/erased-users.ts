/**
 * Users erased, with the time of the request: events of theirs dated at or before it that are
 * read again or late (unread in the input topic when the request came, a backlog, or the input
 * re-learned after restoring an older snapshot) are dropped instead of recreating the state the
 * erasure removed (operators/drop-erased.ts, and the follower's learning in `run`). Events dated
 * after the request are new activity. Two sources: requests this process handled (by id), and
 * the erasure log (by keyed hash, so the log holds no id; `hash` computes it, memoised per id).
 * Bounds: `maxUsers` ids and memo entries, each id kept `ttlMs` of wall time (the input topic's
 * retention); the log is bounded by its own TTL (sinks/redis-erase.ts).
 */
export class ErasedUsers {
  private readonly at = new Map<string, { requestedMs: number; addedMs: number }>();
  private log = new Map<string, number>();
  private readonly memo = new Map<string, number>();

  constructor(
    private readonly maxUsers = 100_000,
    private readonly ttlMs = 7 * 86_400_000,
    private readonly now: () => number = Date.now,
    private readonly hash?: (id: string) => string,
  ) {}

  get size(): number {
    return this.at.size + this.log.size;
  }

  add(userId: string, requestedMs: number): void {
    this.at.delete(userId);
    this.at.set(userId, { requestedMs, addedMs: this.now() });
    this.expire();
    while (this.at.size > this.maxUsers) this.at.delete(this.at.keys().next().value as string);
  }

  /** The erasure log: keyed hash → time of the erasure. */
  loadLog(entries: ReadonlyMap<string, number>): void {
    this.log = new Map(entries);
    this.memo.clear();
  }

  /** Whether an event of `userId` at `ts` predates the user's erasure. */
  covers(userId: string, ts: number): boolean {
    const e = this.at.get(userId);
    if (e !== undefined) return ts <= e.requestedMs;
    if (this.log.size === 0 || !this.hash) return false;
    let t = this.memo.get(userId);
    if (t === undefined) {
      t = this.log.get(this.hash(userId)) ?? Number.NEGATIVE_INFINITY;
      if (this.memo.size >= this.maxUsers) this.memo.clear();
      this.memo.set(userId, t);
    }
    return ts <= t;
  }

  private expire(): void {
    const cutoff = this.now() - this.ttlMs;
    for (const [u, e] of this.at) {
      if (e.addedMs >= cutoff) break; // insertion order is age order
      this.at.delete(u);
    }
  }
}
