import type { SourcedEvent } from '../../operators/types.js';

/** Messages held per partition at the frontier before it stops being fetched. */
const HOLD_MAX = 2000;

/** A message the follower read, parsed once on arrival: its event, or none (a dead letter). */
export interface HeldMessage {
  readonly partition: number;
  readonly offset: number;
  readonly event: SourcedEvent | undefined;
}

/**
 * The follower's frontier hold: per partition, the messages read but not learned yet because
 * their event time is past the frontier (learning runs ahead of serving by at most the staleness
 * bound), in offset order. Memory stays bounded: a partition holding HOLD_MAX messages is no
 * longer fetched (enough to go on with when serving moves on) until fewer than a quarter remain.
 */
export class FollowerHold {
  private readonly waiting = new Map<number, HeldMessage[]>();
  /** Partitions not fetched while their held messages are more than enough to go on with. */
  private readonly paused = new Set<number>();

  constructor(
    private readonly pause: (partition: number) => void,
    private readonly resume: (partition: number) => void,
  ) {}

  has(partition: number): boolean {
    return this.waiting.has(partition);
  }

  /** The oldest message waiting in the partition (undefined when it holds nothing). */
  head(partition: number): HeldMessage | undefined {
    return this.waiting.get(partition)?.[0];
  }

  /**
   * Queues the message behind what its partition holds; false when the partition holds nothing,
   * so the caller may learn it at once (or `start` the queue with it).
   */
  queue(item: HeldMessage): boolean {
    const p = item.partition;
    const queue = this.waiting.get(p);
    if (!queue) return false;
    queue.push(item);
    if (queue.length >= HOLD_MAX && !this.paused.has(p)) {
      this.paused.add(p);
      this.pause(p);
    }
    return true;
  }

  start(item: HeldMessage): void {
    this.waiting.set(item.partition, [item]);
  }

  /** The partition stops being read here: what it held is refetched when it comes back. */
  drop(partition: number): void {
    this.waiting.delete(partition);
    this.paused.delete(partition);
  }

  /**
   * Offers each partition's held messages in order to `learn` until it refuses one (past the
   * frontier still); fetching resumes where little is left.
   */
  drain(learn: (item: HeldMessage) => boolean): void {
    for (const [p, queue] of this.waiting) {
      let n = 0;
      while (n < queue.length && learn(queue[n] as HeldMessage)) n++;
      const left = queue.length - n;
      if (left === 0) this.waiting.delete(p);
      else if (n > 0) queue.splice(0, n);
      if (left < HOLD_MAX / 4 && this.paused.delete(p)) this.resume(p);
    }
  }
}
