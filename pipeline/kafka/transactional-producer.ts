import type { Config } from '../../config/schema.js';
import type { CommitPoint } from '../../operators/types.js';
import {
  callback,
  commonKafkaConfig,
  rdkafka,
  type KafkaConsumer,
  type Producer,
} from './rdkafka.js';

export interface OutMessage {
  readonly topic: string;
  readonly key?: string;
  readonly value: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Kafka outputs (dead letters, push notifications) and the consumed offsets are committed in ONE
 * transaction, so a crash between producing and committing never leaves duplicates visible to
 * read_committed consumers. A stable transactional.id lets a restarted job fence its dead
 * predecessor and abort its open transaction at once instead of waiting for the timeout.
 */
export class TransactionalProducer {
  private readonly producer: Producer;

  constructor(cfg: Config, transactionalId: string) {
    const rd = rdkafka();
    this.producer = new rd.Producer({
      ...commonKafkaConfig(cfg),
      'transactional.id': transactionalId,
      'enable.idempotence': true,
      acks: -1,
      'transaction.timeout.ms': 30_000,
      'linger.ms': 5,
      'compression.type': 'lz4',
    });
  }

  async connect(): Promise<void> {
    await callback((cb) => this.producer.connect({ timeout: 30_000 }, cb));
    this.producer.setPollInterval(50);
    await callback((cb) => this.producer.initTransactions(30_000, cb));
  }

  /** Produces `messages` and commits `offsets` for the consumer's group atomically. */
  async commit(
    messages: readonly OutMessage[],
    offsets: readonly CommitPoint[],
    consumer: KafkaConsumer,
  ): Promise<void> {
    await callback((cb) => this.producer.beginTransaction(cb));
    try {
      for (const m of messages) {
        const headers = m.headers
          ? Object.entries(m.headers).map(([k, v]) => ({ [k]: v }))
          : undefined;
        this.producer.produce(
          m.topic,
          null,
          Buffer.from(m.value),
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
      throw err;
    }
  }

  async disconnect(): Promise<void> {
    if (!this.producer.isConnected()) return;
    await callback((cb) => this.producer.disconnect(cb));
  }
}
