import type { Config } from '../config/schema.js';
import type { CommitPoint } from '../records/index.js';
import {
  callback,
  commonKafkaConfig,
  rdkafka,
  type KafkaConsumer,
  type Producer,
} from './rdkafka.js';

export interface OutMessage {
  readonly topic: string;
  /** Default: the partitioner's choice by key. */
  readonly partition?: number;
  readonly key?: string;
  /** null: a tombstone (a compacted changelog's delete). */
  readonly value: string | Buffer | null;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Kafka outputs (dead letters, push notifications) and the consumed offsets are committed in ONE
 * transaction, so a crash between producing and committing never leaves duplicates visible to
 * read_committed consumers. A stable transactional.id lets a restarted job fence its dead
 * predecessor and abort its open transaction at once instead of waiting for the timeout.
 */
export class TransactionalProducer {
  private producer: Producer;
  /** The last transaction failed: start the next one on a fresh producer (see commit()). */
  private stale = false;
  /** commit() calls running, and who waits for none to run (settled()). */
  private active = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly cfg: Config,
    private readonly transactionalId: string,
  ) {
    this.producer = this.create();
  }

  private create(): Producer {
    const rd = rdkafka();
    return new rd.Producer({
      ...commonKafkaConfig(this.cfg),
      'transactional.id': this.transactionalId,
      'enable.idempotence': true,
      acks: -1,
      'transaction.timeout.ms': 30_000,
      'linger.ms': 5,
      'compression.type': 'lz4',
    });
  }

  async connect(timeoutMs = 30_000): Promise<void> {
    await callback((cb) => this.producer.connect({ timeout: timeoutMs }, cb));
    this.producer.setPollInterval(50);
    await callback((cb) => this.producer.initTransactions(timeoutMs, cb));
  }

  /**
   * Replaces the producer by a new one with the same transactional.id. Its initTransactions
   * bumps the epoch, which fences the old one and aborts whatever transaction it left open.
   */
  private async renew(): Promise<void> {
    const old = this.producer;
    await Promise.race([
      callback((cb) => old.disconnect(cb)).catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
    ]);
    this.producer = this.create();
    // Short: during an outage this runs once per retry, and the retry loop must stay responsive.
    await this.connect(10_000);
    this.stale = false;
  }

  /**
   * Resolves once no commit() runs: its transaction has then committed, or failed (it is aborted,
   * or fenced by the next attempt's fresh producer before that writes anything). A restore of
   * state this producer writes waits for it: read_committed stops before an open transaction,
   * and one that commits after the restore read would carry state the restore missed, with the
   * offsets that skip its input.
   */
  settled(): Promise<void> {
    return this.active === 0 ? Promise.resolve() : new Promise((r) => this.idle.push(r));
  }

  /** Produces `messages` and commits `offsets` for the consumer's group atomically. */
  async commit(
    messages: readonly OutMessage[],
    offsets: readonly CommitPoint[],
    consumer: KafkaConsumer,
  ): Promise<void> {
    this.active++;
    try {
      await this.transaction(messages, offsets, consumer);
    } finally {
      if (--this.active === 0) for (const r of this.idle.splice(0)) r();
    }
  }

  private async transaction(
    messages: readonly OutMessage[],
    offsets: readonly CommitPoint[],
    consumer: KafkaConsumer,
  ): Promise<void> {
    if (this.stale) await this.renew();
    await callback((cb) => this.producer.beginTransaction(cb));
    try {
      for (const m of messages) {
        const headers = m.headers
          ? Object.entries(m.headers).map(([k, v]) => ({ [k]: v }))
          : undefined;
        const value = typeof m.value === 'string' ? Buffer.from(m.value) : m.value;
        this.producer.produce(
          m.topic,
          m.partition ?? null,
          value,
          m.key,
          Date.now(),
          undefined,
          headers,
        );
      }
      if (offsets.length > 0) {
        await callback((cb) =>
          this.producer.sendOffsetsToTransaction(
            offsets.map((o) => ({ ...o })),
            consumer,
            30_000,
            cb,
          ),
        );
      }
      await callback((cb) => this.producer.commitTransaction(30_000, cb));
    } catch (err) {
      await callback((cb) => this.producer.abortTransaction(30_000, cb)).catch(() => undefined);
      // A failed transaction is retried on a fresh producer. After a broker restart the
      // coordinator may have aborted the open transaction on its own: the old producer's abort
      // succeeds locally, yet every later commit fails with INVALID_TXN_STATE, forever.
      this.stale = true;
      throw err;
    }
  }

  async disconnect(): Promise<void> {
    if (!this.producer.isConnected()) return;
    await callback((cb) => this.producer.disconnect(cb));
  }
}
