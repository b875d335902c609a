import type { Config } from '../../config/schema.js';
import type { RawMessage, SourcedEvent } from '../../operators/types.js';
import {
  fetchedHighOffset,
  partitionWatermarks,
  selfAssignedConsumer,
  topicPartitions,
} from '../../kafka/topic-offsets.js';
import { FollowerHold, type HeldMessage } from './follower-hold.js';
import { FollowerPrefix } from './follower-prefix.js';
import { WakeConditions } from './wake-conditions.js';
import { followerMetrics, stalenessSeconds, type FollowerMetrics } from './follower-metrics.js';
import type { FollowerOptions } from './follower-options.js';
import { callback, cooperative, type KafkaConsumer, type Message } from '../../kafka/rdkafka.js';

/**
 * Where a partition of the input topic is learned in this process:
 *  - follow: another instance owns it; the follower learns it;
 *  - held: the main pipeline was just assigned it and has not read from it yet;
 *  - catchup: the main pipeline waits while the follower learns up to its first offset;
 *  - owned: the main pipeline learns it.
 */
type PartitionState = 'follow' | 'held' | 'catchup' | 'owned';

/**
 * Learns from the partitions of the input topic that other instances of the group own, through a
 * second consumer that assigns partitions itself and never commits. So every instance learns
 * every event: item-side state (co-visitation, item factors, trending) converges across instances
 * with the follower's lag as staleness, and the user-side state of a partition that moves here is
 * already in memory when it arrives. The price is that learning is replicated on every instance.
 */
export class Follower {
  readonly consumer: KafkaConsumer;
  private readonly state = new Map<number, PartitionState>();
  /** run's ingest operators and the model side of its learning (follower-prefix.ts). */
  private readonly prefix: FollowerPrefix;
  /** Claimed and within the frontier, learned at the end of the current pass. */
  private admitted: SourcedEvent[] = [];
  private partitions: number[] = [];
  private readonly low = new Map<number, number>();
  private readonly high = new Map<number, number>();
  /** Bounds of catch-ups: learn a held partition only below the main pipeline's first offset. */
  private readonly limit = new Map<number, number>();
  /** Counts releases per partition, so a handoff that outlived its assignment changes nothing. */
  private readonly releases = new Map<number, number>();
  private started = false;
  private following = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Per partition, the newest event time learned from it. */
  private readonly newest = new Map<number, number>();
  /** Per partition held at the frontier: messages read but not learned yet, in order. */
  private readonly hold: FollowerHold;
  /** The frontier as of the current pass (it costs a look at the main consumer's positions). */
  private frontierNow = Number.POSITIVE_INFINITY;
  private readonly waiting = new WakeConditions(() => this.stopped);
  /** Ends the loop's wait while it reads no partition (set while it waits). */
  private readable: (() => void) | undefined;
  private readonly m: FollowerMetrics;

  constructor(
    cfg: Config,
    private readonly opts: FollowerOptions,
  ) {
    this.consumer = selfAssignedConsumer(cfg, `${opts.groupId}-follower-${opts.instanceId}`);
    this.consumer.on('event.error', (err) => opts.onLog?.(`kafka follower error: ${err.message}`));
    this.prefix = new FollowerPrefix({
      maxFutureSkewMs: cfg.pipeline.maxFutureSkewMs,
      dedupeCapacity: Math.max(1, Math.min(opts.dedupeCapacity, 100_000)),
      learn: opts.learn,
      ...(opts.userIdHashKey && { userIdHashKey: opts.userIdHashKey }),
      ...(opts.erased && { erased: opts.erased }),
    });
    this.m = followerMetrics(opts.registry);
    const tp = (partition: number) => [{ topic: opts.topic, partition }];
    this.hold = new FollowerHold(
      (p) => this.consumer.pause(tp(p)),
      (p) => this.consumer.resume(tp(p)),
    );
  }

  /** Connects and learns where each partition starts; reading begins with the first assignment. */
  async connect(): Promise<void> {
    await callback((cb) => this.consumer.connect({ timeout: 30_000 }, cb));
    this.consumer.setDefaultConsumeTimeout(this.opts.pollMs ?? 50);
    this.partitions = await topicPartitions(this.consumer, this.opts.topic);
    await Promise.all(
      this.partitions.map(async (p) => {
        const wm = await partitionWatermarks(this.consumer, this.opts.topic, p);
        this.low.set(p, wm.lowOffset);
        this.high.set(p, wm.highOffset);
        // Nothing learned here yet: the model knows this partition from its log start onwards.
        if (this.opts.ledger.get(p) === undefined) this.opts.ledger.advance(p, wm.lowOffset);
        if (!this.state.has(p)) this.state.set(p, 'follow');
      }),
    );
  }

  /**
   * Called with every assignment of the main consumer (also an empty one). Until the first one,
   * the follower reads nothing: otherwise it would race the main pipeline through partitions
   * this instance is about to own, and those events would be learned untested.
   */
  assigned(partitions: readonly number[]): void {
    for (const p of partitions) this.setState(p, 'held');
    if (!this.started) {
      this.started = true;
      this.following = true;
      const initial = this.partitions.filter((p) => this.reads(this.state.get(p)));
      this.consumer.assign(initial.map((p) => this.at(p)));
      this.loop = this.run().catch((err: unknown) =>
        this.opts.onLog?.(`follower stopped: ${(err as Error).message}`),
      );
    }
    this.m.followed.set(this.followedCount());
  }

  /**
   * The main pipeline will start `partition` at `offset` (the group's committed offset): learn up
   * to it right away, so the handoff of its first batch finds the state already there.
   */
  prepare(partition: number, offset: number): void {
    if (this.state.get(partition) !== 'held' || this.covered(partition, offset)) return;
    this.limit.set(partition, offset);
    this.setState(partition, 'catchup');
  }

  /** The main pipeline let these partitions go (after committing them): follow them again. */
  released(partitions: readonly number[]): void {
    for (const p of partitions) {
      this.limit.delete(p);
      this.releases.set(p, (this.releases.get(p) ?? 0) + 1);
      this.setState(p, 'follow');
    }
    this.m.followed.set(this.followedCount());
  }

  isOwned(partition: number): boolean {
    return this.state.get(partition) === 'owned';
  }

  /**
   * Before the main pipeline processes `partition` from `firstOffset` on, every event before it
   * must be in the model: the follower learns the gap (a partition that moved here from an
   * instance that died or left), then hands the partition over. Bounded by `timeoutMs`.
   */
  async handoff(partition: number, firstOffset: number, timeoutMs: number): Promise<void> {
    if (this.state.get(partition) === 'owned') return;
    const gen = this.releases.get(partition) ?? 0;
    const started = Date.now();
    if (!this.covered(partition, firstOffset)) {
      this.limit.set(partition, firstOffset);
      if (this.state.get(partition) !== 'catchup') this.setState(partition, 'catchup');
      const reached = await this.waiting.until(
        () => this.covered(partition, firstOffset),
        timeoutMs,
      );
      if (!reached) {
        this.m.handoffTimeouts.inc();
        this.opts.onLog?.('partition taken over before its state was learned up to it', {
          partition,
          firstOffset,
          learnedUpTo: this.opts.ledger.get(partition),
        });
      }
    }
    this.limit.delete(partition);
    // A revoke that gave up waiting for this batch may have handed the partition back meanwhile.
    if ((this.releases.get(partition) ?? 0) === gen) this.setState(partition, 'owned');
    this.m.handoff.observe((Date.now() - started) / 1000);
  }

  /**
   * Event time up to which every partition other instances own is learned: +Infinity for a
   * partition learned to its end (as of the last fetch), else the newest event time learned from
   * it. Event time rather than wall time, so a replay of old data keeps the same bound.
   */
  learnedThrough(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const p of this.partitions) {
      if (!this.reads(this.state.get(p))) continue;
      const held = this.hold.head(p);
      if (this.behind(p) === 0 && !held) continue;
      let h = this.newest.get(p) ?? Number.NEGATIVE_INFINITY;
      // Paused at the frontier: what comes next is past it, so p is learned up to there.
      const head = held?.event;
      if (head) h = Math.max(h, Math.min(head.event.ts, this.frontierNow));
      if (h < min) min = h;
    }
    return min;
  }

  /**
   * Holds a batch whose newest event time is `eventTime` until the follower has learned other
   * instances' partitions up to `eventTime - boundMs`; at most `maxMs`.
   */
  async waitFresh(eventTime: number, boundMs: number, maxMs: number): Promise<void> {
    const fresh = (): boolean => this.learnedThrough() >= eventTime - boundMs;
    this.drain();
    if (!fresh()) {
      const started = Date.now();
      const ok = await this.waiting.until(fresh, maxMs);
      this.m.hold.observe((Date.now() - started) / 1000);
      if (!ok) this.m.holdTimeouts.inc();
    }
    const through = this.learnedThrough();
    this.m.served.observe(through >= eventTime ? 0 : (eventTime - through) / 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.waiting.wake();
    this.readable?.();
    await this.loop;
    if (this.consumer.isConnected())
      await callback((cb) => this.consumer.disconnect(cb)).catch(() => undefined);
  }

  private at(p: number): { topic: string; partition: number; offset: number } {
    return { topic: this.opts.topic, partition: p, offset: this.opts.ledger.get(p) ?? -2 };
  }

  private reads(st: PartitionState | undefined): boolean {
    return st === 'catchup' || (st === 'follow' && this.opts.followOthers !== false);
  }

  private followedCount(): number {
    let n = 0;
    for (const st of this.state.values()) if (this.reads(st)) n++;
    return n;
  }

  private setState(p: number, next: PartitionState): void {
    const prev = this.state.get(p);
    this.state.set(p, next);
    if (!this.following || this.stopped) return;
    const was = this.reads(prev);
    const is = this.reads(next);
    // Messages held at the frontier are refetched from the ledger when the partition comes back.
    if (was && !is) this.hold.drop(p);
    // Incremental (re)assignment moves one partition without refetching the others; a partition
    // comes back at the ledger, i.e. right after what the main pipeline learned from it.
    if (was && !is)
      cooperative(this.consumer).incrementalUnassign([{ topic: this.opts.topic, partition: p }]);
    else if (!was && is) {
      cooperative(this.consumer).incrementalAssign([this.at(p)]);
      this.readable?.();
    }
  }

  private covered(p: number, offset: number): boolean {
    const learned = this.opts.ledger.get(p) ?? this.low.get(p) ?? 0;
    return learned >= offset;
  }

  /**
   * A catch-up whose consumer position passed the handoff point is done even when no message sits
   * right before it (transaction markers and compaction leave gaps in the offsets).
   */
  private reachedLimit(p: number): void {
    const limit = this.limit.get(p);
    if (limit === undefined || this.state.get(p) !== 'catchup' || this.hold.has(p)) return;
    try {
      const [pos] = this.consumer.position([{ topic: this.opts.topic, partition: p }]);
      if (pos !== undefined && pos.offset >= limit) this.opts.ledger.advance(p, limit);
    } catch {
      // Not fetched yet.
    }
  }

  /** Messages of a followed partition not learned yet (0 for partitions it does not read). */
  private behind(p: number): number {
    if (!this.reads(this.state.get(p))) return 0;
    const learned = this.opts.ledger.get(p) ?? 0;
    const end = this.limit.get(p) ?? this.high.get(p) ?? 0;
    return Math.max(0, end - learned);
  }

  private async run(): Promise<void> {
    const max = this.opts.batchMaxMessages ?? 1000;
    const topic = this.opts.topic;
    while (!this.stopped) {
      if (this.followedCount() === 0) {
        // With the item state replica it follows nothing but partitions that move here: polling
        // an empty assignment every pollMs cost each instance CPU for the whole drain.
        this.m.lag.set(0);
        this.waiting.wake();
        await new Promise<void>((resolve) => (this.readable = resolve));
        this.readable = undefined;
        continue;
      }
      const messages = await callback<Message[]>((cb) =>
        this.consumer.consume(max, cb as (err: unknown, m: Message[]) => void),
      ).catch((err: unknown) => {
        this.opts.onLog?.(`follower consume failed: ${(err as Error).message}`);
        return new Promise<Message[]>((r) => setTimeout(() => r([]), 500));
      });
      this.drain();
      this.read(messages);
      // Log ends as of the last fetch responses: no broker round trip per poll.
      for (const p of this.partitions) {
        if (!this.reads(this.state.get(p))) continue;
        this.reachedLimit(p);
        // Not fetched yet: the end queried at connect stands.
        const high = fetchedHighOffset(this.consumer, topic, p);
        if (high !== undefined && high > (this.high.get(p) ?? -1)) this.high.set(p, high);
      }
      let lag = 0;
      for (const p of this.partitions) lag += this.behind(p);
      this.m.lag.set(lag);
      const through = this.learnedThrough();
      const newestAnywhere = Math.max(...this.newest.values(), Number.NEGATIVE_INFINITY);
      this.m.staleness.set(stalenessSeconds(through, newestAnywhere));
      this.waiting.wake();
    }
  }

  /** One fetch: parsed as one batch, then each message in order as if it came alone. */
  private read(messages: readonly Message[]): void {
    const raws: RawMessage[] = [];
    for (const m of messages) {
      const p = m.partition;
      if (!this.reads(this.state.get(p))) continue;
      if (m.offset < (this.opts.ledger.get(p) ?? Number.NEGATIVE_INFINITY)) continue;
      raws.push({ topic: m.topic, partition: p, offset: m.offset, value: m.value ?? '' });
    }
    if (raws.length === 0) return;
    // parseMessages keeps the events in message order; the other messages are dead letters.
    const events = this.prefix.parse(raws).events;
    let next = 0;
    for (const r of raws) {
      const e = events[next];
      const hit = e !== undefined && e.partition === r.partition && e.offset === r.offset;
      if (hit) next++;
      this.apply({ partition: r.partition, offset: r.offset, event: hit ? e : undefined });
    }
    this.learnAdmitted();
  }

  private apply(item: HeldMessage): void {
    const p = item.partition;
    const st = this.state.get(p);
    if (!this.reads(st)) return;
    const limit = this.limit.get(p);
    if (st === 'catchup' && limit !== undefined && item.offset >= limit) {
      // Read past the handoff point: all before it is learned, even where offsets have gaps.
      this.opts.ledger.advance(p, limit);
      return;
    }
    if (item.offset < (this.opts.ledger.get(p) ?? Number.NEGATIVE_INFINITY)) return;
    if (item.offset + 1 > (this.high.get(p) ?? 0)) this.high.set(p, item.offset + 1);
    if (!this.hold.queue(item) && !this.admit(item)) this.hold.start(item);
  }

  /**
   * Admits one message to learning unless its event time is past the frontier (false: it must
   * wait). Claimed in the ledger here; learned by learnAdmitted, in order, in the same pass.
   */
  private admit({ partition: p, offset, event: e }: HeldMessage): boolean {
    const st = this.state.get(p);
    const limit = this.limit.get(p);
    if (st === 'catchup' && limit !== undefined && offset >= limit) {
      this.opts.ledger.advance(p, limit);
      return true;
    }
    // A partition catching up for a handoff is behind what is served by definition: no bound.
    if (e && st === 'follow' && e.event.ts > this.frontierNow) return false;
    if (!this.opts.ledger.claim(p, offset)) return true;
    if (!e) return true;
    if (e.event.ts > (this.newest.get(p) ?? Number.NEGATIVE_INFINITY))
      this.newest.set(p, e.event.ts);
    this.admitted.push(e);
    return true;
  }

  /** The rest of the prefix (dedupe, erased, learn) over what was admitted since the last call. */
  private learnAdmitted(): void {
    if (this.admitted.length === 0) return;
    const events = this.admitted;
    this.admitted = [];
    this.m.learned.inc(this.prefix.learn(events));
  }

  /** Learns what waited at the frontier and has come within it; refetches where little is left. */
  private drain(): void {
    this.frontierNow = this.opts.frontier?.() ?? Number.POSITIVE_INFINITY;
    this.hold.drain((item) => this.admit(item));
    this.learnAdmitted();
  }
}
