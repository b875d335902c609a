import type { Config } from '../../config/schema.js';
import { committedKeysSince } from '../../kafka/committed-keys.js';
import type { Logger } from '../logger.js';
import type { GraphBatch } from '../../operators/types.js';
import type { PushDecision, PushMessage } from '../../push/types.js';
import type { OutboxEntry, PushClaims } from '../../sinks/redis-push-policy.js';
import type { RestoreStep } from './restore-step.js';

/** Outbox keys a batch wrote, settled (removed) once its transaction committed. */
export interface OutboxKey {
  readonly partition: number;
  readonly key: string;
}

export interface PushOutboxOptions {
  readonly inputTopic: string;
  /** Users whose input partition is remembered (least recent forgotten first). */
  readonly maxUsers: number;
  /** The idempotency keys committed to the push topic since a wall-clock time (read_committed). */
  readonly committedKeysSince: (sinceMs: number) => Promise<Set<string>>;
  readonly onLog?: (msg: string, fields: Record<string, unknown>) => void;
}

/**
 * Push exactly-once across crashes (issue 13 item 2): a `sent` row exists iff a message with its
 * idempotency key was committed. Claims go through the Redis outbox (redis-push-policy.ts); when
 * a partition is assigned, its entries left by a crash are resolved before its first batch:
 * those whose key is on the push topic (read_committed) were committed and are settled, the
 * others are sent again with their recorded decision and message, in the next transaction, with
 * the same key. A replay that decides the same push again finds it re-emitted already and
 * drops its copy. The decision is exact because a message and its batch's offsets commit in one
 * transaction, and the entry is written before the transaction and removed only after it.
 */
export class PushOutbox {
  /** userId → input partition (insertion order is recency order); bounded by maxUsers. */
  private readonly partitions = new Map<string, number>();
  /** Entries to send again with the next batch. */
  private recovered: OutboxEntry[] = [];
  /** Keys sent again by this process: a re-decided copy of one is dropped. */
  private readonly resent = new Set<string>();
  private restoring: Promise<void> = Promise.resolve();

  constructor(
    private readonly claims: PushClaims,
    private readonly opts: PushOutboxOptions,
  ) {}

  /** Learns the partitions of the batch's users (before the batch's pushes are claimed). */
  observe(batch: GraphBatch): void {
    for (const { event, topic, partition } of batch.events) {
      if (topic !== this.opts.inputTopic) continue;
      const prev = this.partitions.get(event.userId);
      if (prev !== undefined) this.partitions.delete(event.userId);
      else if (this.partitions.size >= this.opts.maxUsers) {
        const oldest = this.partitions.keys().next();
        if (!oldest.done) this.partitions.delete(oldest.value);
      }
      this.partitions.set(event.userId, partition);
    }
  }

  readonly partitionOf = (userId: string): number | undefined => this.partitions.get(userId);

  /** On assignment: resolves the partitions' outbox entries (awaited before the next batch). */
  assigned(partitions: readonly number[], around: RestoreStep = (step) => step()): void {
    if (partitions.length === 0) return;
    this.restoring = this.restoring.then(() => around(() => this.recover(partitions)));
  }

  /** Resolves once the assigned partitions' entries are resolved; rejects if that failed. */
  ready(): Promise<void> {
    return this.restoring;
  }

  private async recover(partitions: readonly number[]): Promise<void> {
    const read = this.claims.outbox;
    if (!read) return;
    const entries: OutboxEntry[] = [];
    for (const p of partitions) entries.push(...(await read(p)));
    if (entries.length === 0) return;
    const since = Math.min(...entries.map((e) => e.at)) - 60_000;
    const committed = await this.opts.committedKeysSince(since);
    const done = entries.filter((e) => committed.has(e.message.idempotencyKey));
    await this.claims.settle?.(
      done.map((e) => ({ partition: e.partition, key: e.message.idempotencyKey })),
    );
    const queued = new Set(this.recovered.map((e) => e.message.idempotencyKey));
    for (const e of entries)
      if (!committed.has(e.message.idempotencyKey) && !queued.has(e.message.idempotencyKey))
        this.recovered.push(e);
    for (const e of entries) this.partitions.set(e.decision.userId, e.partition);
    this.opts.onLog?.('push outbox resolved', {
      partitions,
      committed: done.length,
      resent: entries.length - done.length,
    });
  }

  /**
   * The batch's pushes to claim: the recovered ones first (sent again), then the batch's own,
   * without re-decided copies of a push sent again.
   */
  withRecovered(batch: GraphBatch): GraphBatch {
    const recovered = this.recovered;
    if (recovered.length === 0 && this.resent.size === 0) return batch;
    this.recovered = [];
    for (const e of recovered) this.resent.add(e.message.idempotencyKey);
    const fresh = (d: { idempotencyKey: string }): boolean => !this.resent.has(d.idempotencyKey);
    const own = batch.pushes ?? [];
    const decisions: PushDecision[] = recovered.map((e) => e.decision);
    for (const d of own) if (d.decision !== 'sent' || fresh(d)) decisions.push(d);
    const messages: PushMessage[] = recovered.map((e) => e.message);
    for (const m of batch.pushMessages ?? []) if (fresh(m)) messages.push(m);
    if (decisions.length === own.length && recovered.length === 0) return batch;
    return { ...batch, pushes: decisions, pushMessages: messages };
  }

  /** The outbox keys the batch's sent messages hold (to settle after its commit). */
  keysOf(messages: readonly PushMessage[]): OutboxKey[] {
    const out: OutboxKey[] = [];
    for (const m of messages) {
      const partition = this.partitions.get(m.key);
      if (partition !== undefined) out.push({ partition, key: m.idempotencyKey });
    }
    return out;
  }

  /** After the commit of the batches that sent these: their entries are no longer needed. */
  settle(keys: readonly OutboxKey[]): void {
    if (keys.length === 0 || !this.claims.settle) return;
    // A failed settle only leaves entries that the next assignment finds committed.
    this.claims
      .settle(keys)
      .catch((err: unknown) =>
        this.opts.onLog?.('push outbox settle failed', { err: String(err) }),
      );
  }
}

/** The outbox of `run`: push claims in Redis, committed keys read from the push topic. */
export function createPushOutbox(
  cfg: Config,
  claims: PushClaims,
  inputTopic: string,
  log: Pick<Logger, 'warn'>,
): PushOutbox {
  return new PushOutbox(claims, {
    inputTopic,
    maxUsers: cfg.push.maxUsers,
    committedKeysSince: (since) => committedKeysSince(cfg, cfg.kafka.pushTopic, since),
    onLog: (msg, fields) => log.warn(fields, msg),
  });
}
