import { Observable } from 'rxjs';
import type { Config } from '../config/schema.js';
import type { Batch, CommitPoint, RawMessage } from '../records/index.js';
import {
  bounded,
  callback,
  commonKafkaConfig,
  consumeCalls,
  cooperative,
  rdkafka,
  type KafkaConsumer,
  type Message,
} from './rdkafka.js';

export interface ConsumerSourceOptions {
  readonly topics: readonly string[];
  readonly groupId: string;
  readonly batchMaxMessages: number;
  readonly batchMaxMs: number;
  /** Batches handed out but not yet released: the backpressure bound (memory stays bounded). */
  readonly maxInFlight: number;
  /** Messages in those batches: the bound that holds when batches are large (a backlog). */
  readonly maxInFlightMessages?: number;
  readonly onLog?: (msg: string) => void;
  /**
   * After this long caught up to the log end of every assigned partition of `idleTopic`, with
   * nothing in flight, the source emits an idle tick (a batch with `idleAt`, no messages), and
   * again every `idleAdvanceMs` while quiet. 0 or unset: never. A job that is behind (lag, a
   * store outage holding batches in flight) is never idle.
   */
  readonly idleAdvanceMs?: number;
  readonly idleTopic?: string;
  /** Partitions assigned to this member (eager protocols: all of them; cooperative: the added ones). */
  readonly onAssign?: (partitions: readonly TopicPartition[]) => void;
  /**
   * Partitions being taken away. They are released to the group only when the returned promise
   * settles, so the runtime can first commit the batches that hold them (no two owners, no
   * commit landing after the next owner's). `lost`: the group already gave them to someone else.
   */
  readonly onRevoke?: (partitions: readonly TopicPartition[], lost: boolean) => Promise<void>;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

const ERR_ASSIGN_PARTITIONS = -175;
const ERR_REVOKE_PARTITIONS = -174;
const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
/**
 * How long the source waits at the in-flight bound before it polls with partitions paused. A
 * pause drops what librdkafka has prefetched, and the fetches after the resume fill its queue
 * partition by partition in the same order each time: at 1 s, a job that could not keep up hit
 * the bound every analytics flush (2 s), paused, and read mostly its first partition while the
 * last one's lag grew for the whole run (BENCHMARKS.md, the soak of 2026-12-07 late). Ordinary
 * backpressure waits well below this; a store that is down still gets a poll every 10 s.
 */
const BLOCKED_POLL_AFTER_MS = 10_000;

/**
 * A pull-based Kafka source: it asks librdkafka for the next batch only while fewer than
 * `maxInFlight` batches are unacknowledged, so a slow or failing sink stops consumption instead
 * of filling memory. Offsets are never auto-committed; the runtime commits after the sinks acked.
 */
export class KafkaConsumerSource {
  readonly consumer: KafkaConsumer;
  private inFlight = 0;
  private inFlightMessages = 0;
  private stopped = false;
  private wake: (() => void) | undefined;
  private seq = 0;
  /** Assigned until unassigned: commits for these are still this member's to make. */
  private readonly assigned = new Set<string>();
  /** Being revoked: messages fetched from them are no longer handed out. */
  private readonly revoking = new Set<string>();
  /** Per partition, the offset after the last message this process handed out. */
  private readonly handedOut = new Map<string, number>();
  /** Partitions paused by pollBlocked(), resumed once batches flow again. */
  private pausedWhileBlocked = false;
  /**
   * Set when disconnect() begins. The binding frees its librdkafka handle on a worker thread
   * while rebalance events it queued earlier are still delivered to this thread, and some of its
   * calls (assignmentLost) then dereference the freed handle: a member stopping while another
   * left the group died of SIGSEGV (CI, scale-quality; reproduced by staggered stops).
   */
  private closing = false;
  /** The close's own revoke has been answered: later rebalance events get no native call. */
  private unassignedWhileClosing = false;
  /**
   * Revoke handlers still running; disconnect() lets them finish before the close starts.
   * Bound: one per rebalance event whose handler has not settled (each removes itself).
   */
  private readonly revokes = new Set<Promise<void>>();
  /** Since when the source has been caught up and quiet (idle ticks), and the last tick. */
  private quietSince: number | undefined;
  private lastTick = 0;

  constructor(
    cfg: Config,
    private readonly opts: ConsumerSourceOptions,
  ) {
    const rd = rdkafka();
    this.consumer = new rd.KafkaConsumer(
      {
        ...commonKafkaConfig(cfg),
        'group.id': opts.groupId,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'auto.offset.reset': 'earliest',
        // Range balances each topic on its own. The sticky assignors balance the total count over
        // both subscribed topics, so one instance could own every clickstream partition and
        // another every items partition: no scale-out at all (docs/scaling.md).
        'partition.assignment.strategy': 'range',
        'session.timeout.ms': 10_000,
        'heartbeat.interval.ms': 1_000,
        'fetch.wait.max.ms': Math.min(100, opts.batchMaxMs),
        // librdkafka prefetches in the background whether or not the job pulls; its default cap
        // (64 MiB) would let a paused job (a store down, a big backlog) grow by that much.
        'queued.max.messages.kbytes': 16_384,
        rebalance_cb: (err: { code?: number } | undefined, assignment: TopicPartition[]) =>
          this.rebalance(err?.code, assignment),
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.consumer.on('event.error', (err) => opts.onLog?.(`kafka consumer error: ${err.message}`));
  }

  async connect(): Promise<void> {
    await callback((cb) => this.consumer.connect({ timeout: 30_000 }, cb));
    this.consumer.setDefaultConsumeTimeout(this.opts.batchMaxMs);
    // A batch is what librdkafka has fetched when the first message is there, not `batchMaxMessages`
    // messages waited for one by one: at 1,000 events/s that wait made a batch 0.5 s old before
    // it was processed. Under load batches still grow (a backlog is fetched 500 at a time).
    consumeCalls(this.consumer).setDefaultIsTimeoutOnlyForFirstMessage(true);
    this.consumer.subscribe([...this.opts.topics]);
  }

  /** Whether this member may still commit offsets for the partition. */
  owns(topic: string, partition: number): boolean {
    return this.assigned.has(tpKey(topic, partition));
  }

  /**
   * True when every batch handed out is released and every assigned partition of `topic` has
   * been read to its end as of the last fetch (no broker round trip).
   */
  caughtUp(topic: string): boolean {
    if (this.inFlight > 0) return false;
    for (const key of this.assigned) {
      const [t, p] = key.split('\u0000');
      if (t !== topic) continue;
      const partition = Number(p);
      try {
        const wm = this.consumer.getWatermarkOffsets(topic, partition);
        // Not fetched since it was assigned: unknown, which is not the same as empty.
        if (wm.highOffset < 0) return false;
        if (wm.highOffset <= wm.lowOffset) continue;
        const [pos] = this.consumer.position([{ topic, partition }]);
        if (pos === undefined || pos.offset < 0 || pos.offset < wm.highOffset) return false;
      } catch {
        return false;
      }
    }
    return true;
  }

  private incremental(): boolean {
    return cooperative(this.consumer).rebalanceProtocol() === 'COOPERATIVE';
  }

  private rebalance(code: number | undefined, assignment: TopicPartition[]): void {
    const parts = assignment.map((a) => ({ topic: a.topic, partition: a.partition }));
    try {
      if (code === ERR_ASSIGN_PARTITIONS) {
        if (this.stopped) {
          // Partitions handed over while this member leaves (others left first) are given back
          // by its close. Announcing them would start restores that outlive the job: they ran
          // after its stores had closed and reopened a Redis connection, so the process never
          // exited. Only the protocol's assign is due.
          this.assignQuietly(parts);
          return;
        }
        for (const p of parts) {
          this.assigned.add(tpKey(p.topic, p.partition));
          this.revoking.delete(tpKey(p.topic, p.partition));
        }
        this.opts.onAssign?.(parts);
        if (this.incremental()) cooperative(this.consumer).incrementalAssign(parts);
        else this.consumer.assign(parts);
        // librdkafka keeps a partition's pause flag across a lost-and-regained assignment.
        if (!this.pausedWhileBlocked) this.resumeQuietly(parts);
        return;
      }
      if (code !== ERR_REVOKE_PARTITIONS) {
        this.opts.onLog?.(`kafka rebalance error ${String(code)}`);
        return;
      }
      // While closing nothing is committed any more, so whether the group already gave the
      // partitions away no longer matters; the call could reach a freed handle.
      const lost = !this.closing && cooperative(this.consumer).assignmentLost();
      for (const p of parts) {
        this.revoking.add(tpKey(p.topic, p.partition));
        // A lost partition already belongs to another member: its commits would be refused.
        if (lost) this.assigned.delete(tpKey(p.topic, p.partition));
      }
      const done = this.opts.onRevoke?.(parts, lost) ?? Promise.resolve();
      const handled = done
        .catch((err: unknown) => this.opts.onLog?.(`revoke handler failed: ${String(err)}`))
        .finally(() => {
          this.revokes.delete(handled);
          for (const p of parts) {
            this.assigned.delete(tpKey(p.topic, p.partition));
            this.revoking.delete(tpKey(p.topic, p.partition));
          }
          this.unassign(parts);
        });
      this.revokes.add(handled);
    } catch (err) {
      this.opts.onLog?.(`rebalance failed: ${String(err)}`);
    }
  }

  /** Emits batches until stop(); each must be release()d once its work is committed. */
  batches(): Observable<Batch<RawMessage>> {
    return new Observable<Batch<RawMessage>>((subscriber) => {
      let active = true;
      const loop = async (): Promise<void> => {
        while (active && !this.stopped) {
          let messages: Message[];
          if (this.blocked()) {
            // Short waits are ordinary backpressure. A long one (a store down) must still let
            // librdkafka run its callbacks: after a broker restart the group has forgotten this
            // member, only a poll lets it rejoin, and until then every offset commit fails with
            // "Unknown member" while the batches holding the bound wait for that commit.
            const woke = await new Promise<boolean>((resolve) => {
              const timer = setTimeout(() => resolve(false), BLOCKED_POLL_AFTER_MS);
              this.wake = () => {
                clearTimeout(timer);
                resolve(true);
              };
            });
            if (woke || !this.blocked() || !active || this.stopped) continue;
            messages = await this.pollBlocked();
          } else {
            this.resumeAfterBlocked();
            messages = await callback<Message[]>((cb) =>
              this.consumer.consume(
                this.opts.batchMaxMessages,
                cb as (err: unknown, m: Message[]) => void,
              ),
            );
          }
          const kept = this.fresh(messages);
          if (active && kept.length === 0 && this.idleTick()) {
            this.inFlight++;
            subscriber.next({ seq: this.seq++, items: [], commits: [], idleAt: Date.now() });
            continue;
          }
          if (kept.length > 0) this.quietSince = undefined;
          if (!active || kept.length === 0) continue;
          this.inFlight++;
          this.inFlightMessages += kept.length;
          subscriber.next(toBatch(this.seq++, kept));
        }
        subscriber.complete();
      };
      loop().catch((err: unknown) => subscriber.error(err));
      return () => {
        active = false;
        this.wake?.();
      };
    });
  }

  /**
   * Drops messages of partitions being revoked, and messages this process already handed out:
   * a rejoin after a lost membership restarts fetching at the committed offset, behind batches
   * still in flight. Their effects (stores, DLQ messages) are done or will be, so a second pass
   * would only duplicate the DLQ topic.
   */
  private fresh(messages: readonly Message[]): Message[] {
    const kept: Message[] = [];
    for (const m of messages) {
      const key = tpKey(m.topic, m.partition);
      if (this.revoking.has(key) || m.offset < (this.handedOut.get(key) ?? -1)) continue;
      this.handedOut.set(key, m.offset + 1);
      kept.push(m);
    }
    return kept;
  }

  /** Whether an idle tick is due now (see ConsumerSourceOptions.idleAdvanceMs). */
  private idleTick(): boolean {
    const every = this.opts.idleAdvanceMs ?? 0;
    const topic = this.opts.idleTopic;
    if (every <= 0 || topic === undefined || this.stopped) return false;
    const now = Date.now();
    if (!this.caughtUp(topic)) {
      this.quietSince = undefined;
      return false;
    }
    this.quietSince ??= now;
    if (now - this.quietSince < every || now - this.lastTick < every) return false;
    this.lastTick = now;
    return true;
  }

  /** One poll with every assigned partition paused: serves callbacks, fetches nothing new. */
  private async pollBlocked(): Promise<Message[]> {
    const parts = [...this.assigned].map((k) => {
      const [topic, p] = k.split('\u0000');
      return { topic: topic as string, partition: Number(p) };
    });
    try {
      // Again on every poll: partitions assigned during the wait start unpaused.
      if (parts.length > 0) this.consumer.pause(parts);
      this.pausedWhileBlocked = true;
    } catch (err) {
      this.opts.onLog?.(`pause failed: ${String(err)}`);
    }
    // Whatever was fetched before the pause may still come back; it is handed out (one batch
    // over the bound at most per poll, and librdkafka's queue is capped) rather than dropped.
    return callback<Message[]>((cb) =>
      this.consumer.consume(this.opts.batchMaxMessages, cb as (err: unknown, m: Message[]) => void),
    );
  }

  private assignQuietly(parts: readonly TopicPartition[]): void {
    try {
      if (this.incremental()) cooperative(this.consumer).incrementalAssign([...parts]);
      else this.consumer.assign([...parts]);
    } catch (err) {
      // A closing consumer refuses (Local: Erroneous state); the close settles the group itself.
      this.opts.onLog?.(`assign while stopping failed: ${String(err)}`);
    }
  }

  private resumeAfterBlocked(): void {
    if (!this.pausedWhileBlocked) return;
    this.pausedWhileBlocked = false;
    this.resumeQuietly(this.consumer.assignments());
  }

  private resumeQuietly(parts: readonly TopicPartition[]): void {
    try {
      if (parts.length > 0)
        this.consumer.resume(parts.map((p) => ({ topic: p.topic, partition: p.partition })));
    } catch (err) {
      this.opts.onLog?.(`resume failed: ${String(err)}`);
    }
  }

  /** At the in-flight bound: no more batches until some are released. */
  private blocked(): boolean {
    return (
      this.inFlight >= this.opts.maxInFlight ||
      this.inFlightMessages >= (this.opts.maxInFlightMessages ?? Number.POSITIVE_INFINITY)
    );
  }

  /** A batch of `messages` messages is committed: its place in the bound is free again. */
  release(messages = 0): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.inFlightMessages = Math.max(0, this.inFlightMessages - messages);
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  get pendingBatches(): number {
    return this.inFlight;
  }

  /** Stops pulling; batches already emitted still flow through and get committed. */
  stop(): void {
    this.stopped = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  commitSync(commits: readonly CommitPoint[]): void {
    if (commits.length > 0) this.consumer.commitSync(commits.map((c) => ({ ...c })));
  }

  /**
   * Closes the consumer after any revoke in progress has given its partitions back, so the
   * close's own revoke is the only rebalance event answered while the handle is being freed.
   */
  async disconnect(): Promise<void> {
    if (!this.consumer.isConnected()) return;
    await bounded(
      Promise.allSettled([...this.revokes]),
      REVOKES_BEFORE_CLOSE_MS,
      'revoke handlers before the close',
    ).catch((err: unknown) => this.opts.onLog?.(String(err)));
    this.closing = true;
    await callback((cb) => this.consumer.disconnect(cb));
  }

  private unassign(parts: readonly TopicPartition[]): void {
    // The close waits for one answer to its revoke; anything later could meet a freed handle.
    if (this.closing) {
      if (this.unassignedWhileClosing) return;
      this.unassignedWhileClosing = true;
    }
    try {
      if (this.incremental()) cooperative(this.consumer).incrementalUnassign([...parts]);
      else this.consumer.unassign();
    } catch (err) {
      // Only fails once the consumer is closed, when there is nothing left to give back.
      this.opts.onLog?.(`unassign failed: ${String(err)}`);
    }
  }
}

/** Revoke handlers only commit what is in flight; at shutdown that is already done. */
const REVOKES_BEFORE_CLOSE_MS = 5_000;

function toBatch(seq: number, messages: readonly Message[]): Batch<RawMessage> {
  const next = new Map<string, CommitPoint>();
  const items: RawMessage[] = new Array<RawMessage>(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Message;
    const key = m.key === undefined || m.key === null ? undefined : m.key.toString();
    items[i] = {
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      value: m.value ?? '',
      ...(key !== undefined && { key }),
      ...(m.timestamp !== undefined && { timestamp: m.timestamp }),
    };
    const id = `${m.topic}\u0000${m.partition}`;
    const prev = next.get(id);
    if (!prev || prev.offset < m.offset + 1)
      next.set(id, { topic: m.topic, partition: m.partition, offset: m.offset + 1 });
  }
  return { seq, items, commits: [...next.values()] };
}
