import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Config } from '../../config/schema.js';
import { BoundedIdSet } from '../../stream/bounded-id-set.js';
import type { ClickEvent } from '../../models/event.js';
import { validateMessage, type Validation } from '../../stream/validate-event.js';
import type { LearnLedger } from './learn-ledger.js';
import {
  callback,
  commonKafkaConfig,
  cooperative,
  rdkafka,
  type KafkaConsumer,
  type Message,
} from '../../kafka/rdkafka.js';

/** Messages held per partition at the frontier before it stops being fetched. */
const HOLD_MAX = 2000;

export interface FollowerOptions {
  readonly topic: string;
  /** The job's consumer group; the follower's own group id is derived from it and never commits. */
  readonly groupId: string;
  readonly instanceId: string;
  readonly ledger: LearnLedger;
  /** What the main graph does with an accepted event's model side (recommender.learn). */
  readonly learn: (event: ClickEvent) => void;
  readonly dedupeCapacity: number;
  readonly registry: Registry;
  /**
   * Read the partitions other instances own (default true). False with the item state replica:
   * then the follower only catches up a partition that moved here (its user side, see learn).
   */
  readonly followOthers?: boolean;
  /**
   * Event time the follower may learn up to (default: no limit). The main pipeline sets it to
   * what it is serving plus the bound, so learning runs ahead of serving by at most that much.
   */
  readonly frontier?: () => number;
  readonly batchMaxMessages?: number;
  readonly pollMs?: number;
  readonly onLog?: (msg: string, fields?: Record<string, unknown>) => void;
}

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
  private readonly seen: BoundedIdSet;
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
  private readonly waiting = new Map<number, { m: Message; v: Validation }[]>();
  /** Partitions not fetched while their held messages are more than enough to go on with. */
  private readonly paused = new Set<number>();
  /** The frontier as of the current pass (it costs a look at the main consumer's positions). */
  private frontierNow = Number.POSITIVE_INFINITY;
  private readonly waiters = new Set<() => void>();
  private readonly m: FollowerMetrics;

  constructor(
    cfg: Config,
    private readonly opts: FollowerOptions,
  ) {
    const rd = rdkafka();
    this.consumer = new rd.KafkaConsumer(
      {
        ...commonKafkaConfig(cfg),
        'group.id': `${opts.groupId}-follower-${opts.instanceId}`,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'fetch.wait.max.ms': 50,
        'queued.max.messages.kbytes': 16_384,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.consumer.on('event.error', (err) => opts.onLog?.(`kafka follower error: ${err.message}`));
    this.seen = new BoundedIdSet(Math.max(1, Math.min(opts.dedupeCapacity, 100_000)));
    this.m = followerMetrics(opts.registry);
    this.maxFutureSkewMs = cfg.pipeline.maxFutureSkewMs;
  }

  /** The serving side's rule (CONTRACT §5): what it dead-letters, the follower must not learn. */
  private readonly maxFutureSkewMs: number;

  /** Connects and learns where each partition starts; reading begins with the first assignment. */
  async connect(): Promise<void> {
    await callback((cb) => this.consumer.connect({ timeout: 30_000 }, cb));
    this.consumer.setDefaultConsumeTimeout(this.opts.pollMs ?? 50);
    const meta = await callback<{ topics: { name: string; partitions: { id: number }[] }[] }>(
      (cb) =>
        this.consumer.getMetadata(
          { topic: this.opts.topic, timeout: 10_000 },
          cb as (err: unknown, m: unknown) => void,
        ),
    );
    const topic = meta.topics.find((t) => t.name === this.opts.topic);
    this.partitions = (topic?.partitions ?? []).map((p) => p.id).sort((a, b) => a - b);
    await Promise.all(
      this.partitions.map(async (p) => {
        const wm = await callback<{ lowOffset: number; highOffset: number }>((cb) =>
          this.consumer.queryWatermarkOffsets(
            this.opts.topic,
            p,
            10_000,
            cb as (err: unknown, w: unknown) => void,
          ),
        );
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
      const reached = await this.until(() => this.covered(partition, firstOffset), timeoutMs);
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
      const queue = this.waiting.get(p);
      if (this.behind(p) === 0 && !queue) continue;
      let h = this.newest.get(p) ?? Number.NEGATIVE_INFINITY;
      // Paused at the frontier: what comes next is past it, so p is learned up to there.
      const head = queue?.[0]?.v;
      if (head?.ok) h = Math.max(h, Math.min(head.event.ts, this.frontierNow));
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
      const ok = await this.until(fresh, maxMs);
      this.m.hold.observe((Date.now() - started) / 1000);
      if (!ok) this.m.holdTimeouts.inc();
    }
    const through = this.learnedThrough();
    this.m.served.observe(through >= eventTime ? 0 : (eventTime - through) / 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeAll();
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
    if (was && !is) {
      this.waiting.delete(p);
      this.paused.delete(p);
    }
    // Incremental (re)assignment moves one partition without refetching the others; a partition
    // comes back at the ledger, i.e. right after what the main pipeline learned from it.
    if (was && !is)
      cooperative(this.consumer).incrementalUnassign([{ topic: this.opts.topic, partition: p }]);
    else if (!was && is) cooperative(this.consumer).incrementalAssign([this.at(p)]);
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
    if (limit === undefined || this.state.get(p) !== 'catchup' || this.waiting.has(p)) return;
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
      const messages = await callback<Message[]>((cb) =>
        this.consumer.consume(max, cb as (err: unknown, m: Message[]) => void),
      ).catch((err: unknown) => {
        this.opts.onLog?.(`follower consume failed: ${(err as Error).message}`);
        return new Promise<Message[]>((r) => setTimeout(() => r([]), 500));
      });
      this.drain();
      for (const m of messages) this.apply(m);
      // Log ends as of the last fetch responses: no broker round trip per poll.
      for (const p of this.partitions) {
        if (!this.reads(this.state.get(p))) continue;
        this.reachedLimit(p);
        try {
          const wm = this.consumer.getWatermarkOffsets(topic, p);
          if (wm.highOffset >= 0 && wm.highOffset > (this.high.get(p) ?? -1))
            this.high.set(p, wm.highOffset);
        } catch {
          // Not fetched yet: the end queried at connect stands.
        }
      }
      let lag = 0;
      for (const p of this.partitions) lag += this.behind(p);
      this.m.lag.set(lag);
      const through = this.learnedThrough();
      const newestAnywhere = Math.max(...this.newest.values(), Number.NEGATIVE_INFINITY);
      this.m.staleness.set(
        through >= newestAnywhere ? 0 : Math.min(newestAnywhere - through, 1e12) / 1000,
      );
      this.wakeAll();
    }
  }

  private apply(m: Message): void {
    const p = m.partition;
    const st = this.state.get(p);
    if (!this.reads(st)) return;
    const limit = this.limit.get(p);
    if (st === 'catchup' && limit !== undefined && m.offset >= limit) {
      // Read past the handoff point: all before it is learned, even where offsets have gaps.
      this.opts.ledger.advance(p, limit);
      return;
    }
    if (m.offset < (this.opts.ledger.get(p) ?? Number.NEGATIVE_INFINITY)) return;
    if (m.offset + 1 > (this.high.get(p) ?? 0)) this.high.set(p, m.offset + 1);
    const item = {
      m,
      v: validateMessage(m.value ?? '', { maxFutureSkewMs: this.maxFutureSkewMs }),
    };
    const queue = this.waiting.get(p);
    if (queue) {
      queue.push(item);
      // Enough held to go on with when serving moves on: stop fetching (memory stays bounded).
      if (queue.length >= HOLD_MAX && !this.paused.has(p)) {
        this.paused.add(p);
        this.consumer.pause([{ topic: this.opts.topic, partition: p }]);
      }
    } else if (!this.learnOne(item)) this.waiting.set(p, [item]);
  }

  /** Learns one message unless its event time is past the frontier; false when it must wait. */
  private learnOne({ m, v }: { m: Message; v: Validation }): boolean {
    const p = m.partition;
    const st = this.state.get(p);
    const limit = this.limit.get(p);
    if (st === 'catchup' && limit !== undefined && m.offset >= limit) {
      this.opts.ledger.advance(p, limit);
      return true;
    }
    // A partition catching up for a handoff is behind what is served by definition: no bound.
    if (v.ok && st === 'follow' && v.event.ts > this.frontierNow) return false;
    if (!this.opts.ledger.claim(p, m.offset)) return true;
    if (!v.ok) return true;
    if (v.event.ts > (this.newest.get(p) ?? Number.NEGATIVE_INFINITY))
      this.newest.set(p, v.event.ts);
    if (this.seen.add(v.event.eventId)) {
      this.opts.learn(v.event);
      this.m.learned.inc();
    }
    return true;
  }

  /** Learns what waited at the frontier and has come within it; refetches where little is left. */
  private drain(): void {
    this.frontierNow = this.opts.frontier?.() ?? Number.POSITIVE_INFINITY;
    for (const [p, queue] of this.waiting) {
      let n = 0;
      while (n < queue.length && this.learnOne(queue[n] as { m: Message; v: Validation })) n++;
      const left = queue.length - n;
      if (left === 0) this.waiting.delete(p);
      else if (n > 0) queue.splice(0, n);
      if (left < HOLD_MAX / 4 && this.paused.delete(p))
        this.consumer.resume([{ topic: this.opts.topic, partition: p }]);
    }
  }

  private until(done: () => boolean, maxMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const check = (): void => {
        if (done()) finish(true);
        else if (this.stopped) finish(false);
      };
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(ok);
      };
      const timer = setTimeout(() => finish(done()), maxMs);
      this.waiters.add(check);
    });
  }

  private wakeAll(): void {
    for (const w of [...this.waiters]) w();
  }
}

type FollowerMetrics = ReturnType<typeof followerMetrics>;

function followerMetrics(registry: Registry) {
  const r = { registers: [registry] };
  return {
    lag: new Gauge({
      name: 'recpipe_follower_lag_messages',
      help: 'Messages of partitions other instances own that this instance has not learned yet',
      ...r,
    }),
    staleness: new Gauge({
      name: 'recpipe_follower_staleness_seconds',
      help: 'Wall time minus the log-append time up to which partitions other instances own are learned',
      ...r,
    }),
    served: new Histogram({
      name: 'recpipe_serving_staleness_seconds',
      help: 'Per served batch: its newest append time minus the append time the follower had learned through',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      ...r,
    }),
    learned: new Counter({
      name: 'recpipe_follower_learned_total',
      help: 'Events of partitions other instances own, learned by this instance',
      ...r,
    }),
    followed: new Gauge({
      name: 'recpipe_follower_partitions',
      help: 'Input partitions the follower is reading',
      ...r,
    }),
    hold: new Histogram({
      name: 'recpipe_serving_hold_seconds',
      help: 'Time a batch waited before serving for the follower to be within the staleness bound',
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      ...r,
    }),
    holdTimeouts: new Counter({
      name: 'recpipe_serving_hold_timeouts_total',
      help: 'Batches served although the follower was still beyond the staleness bound',
      ...r,
    }),
    handoff: new Histogram({
      name: 'recpipe_handoff_seconds',
      help: 'Time a partition that moved here waited for its state to be learned up to its first offset',
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60],
      ...r,
    }),
    handoffTimeouts: new Counter({
      name: 'recpipe_handoff_timeouts_total',
      help: 'Partitions taken over before the follower reached their first offset (served partly cold)',
      ...r,
    }),
  };
}
