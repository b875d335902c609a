import type { GraphBatch } from '../../operators/types.js';
import { readIsolating } from '../../sinks/isolate.js';

/**
 * Which users' Redis-backed state (purchase history, the exclusions) this process holds a current
 * copy of. A copy stays current only while the user's partition stays here: once it moves away,
 * another instance adds to the user's history, so revoking a partition forgets its users and
 * they are loaded again (batched, before their batch) if the partition ever comes back.
 */
export class CurrentUsers {
  private readonly byPartition = new Map<number, Set<string>>();
  private readonly partitionOf = new Map<string, number>();

  isCurrent(userId: string): boolean {
    return this.partitionOf.has(userId);
  }

  /** `userId`'s state was loaded (or first seen) on `partition` of the input topic. */
  markCurrent(userId: string, partition: number): void {
    const prev = this.partitionOf.get(userId);
    if (prev === partition) return;
    if (prev !== undefined) this.byPartition.get(prev)?.delete(userId);
    this.partitionOf.set(userId, partition);
    let users = this.byPartition.get(partition);
    if (!users) this.byPartition.set(partition, (users = new Set()));
    users.add(userId);
  }

  /** Forgets one user (its in-memory state was dropped to stay within `limits.users`). */
  forgetUser(userId: string): void {
    const p = this.partitionOf.get(userId);
    if (p === undefined) return;
    this.partitionOf.delete(userId);
    this.byPartition.get(p)?.delete(userId);
  }

  /** Forgets the users of partitions this process no longer owns; returns how many. */
  forget(partitions: Iterable<number>): number {
    let n = 0;
    for (const p of partitions) {
      const users = this.byPartition.get(p);
      if (!users) continue;
      for (const u of users) this.partitionOf.delete(u);
      n += users.size;
      this.byPartition.delete(p);
    }
    return n;
  }

  get size(): number {
    return this.partitionOf.size;
  }
}

/**
 * Loads the Redis-backed state (purchase history) of a batch's users this process holds no
 * current copy of, by the parsed (and, with privacy on, pseudonymised) id the graph uses: the
 * Kafka key is never trusted for state. A key Redis refuses to read (another type under our
 * name) is logged and treated as empty: it must not stall the job.
 */
export function userStateLoader(opts: {
  readonly inputTopic: string;
  readonly users: CurrentUsers;
  readonly history: { hydrate(userId: string, itemIds: Iterable<string>): void };
  readonly load: (userIds: readonly string[]) => Promise<Map<string, Set<string>>>;
  readonly retry: <T>(what: string, fn: () => Promise<T>) => Promise<T>;
  readonly onRefused: (users: number, err: string | undefined) => void;
}): (batch: GraphBatch) => Promise<void> {
  return async (batch) => {
    const missing = new Map<string, number>();
    for (const { event, topic, partition } of batch.events)
      if (topic === opts.inputTopic && !opts.users.isCurrent(event.userId))
        missing.set(event.userId, partition);
    if (missing.size === 0) return;
    const { values, refused } = await opts.retry('redis-history', () =>
      readIsolating([...missing.keys()], opts.load),
    );
    if (refused.length > 0) opts.onRefused(refused.length, refused[0]?.error);
    for (const [user, partition] of missing) {
      opts.history.hydrate(user, values.get(user) ?? []);
      opts.users.markCurrent(user, partition);
    }
  };
}
