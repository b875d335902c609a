import type { Config } from '../../config/schema.js';
import type { ItemEvent } from '../../models/event.js';
import { validateItemMessage } from '../../stream/validate-item.js';
import {
  callback,
  commonKafkaConfig,
  rdkafka,
  type KafkaConsumer,
  type Message,
} from '../../kafka/rdkafka.js';
import { yieldToEventLoop } from './event-loop.js';

export interface CatalogReplicaOptions {
  readonly topic: string;
  /** The job's consumer group; the replica's own group id is derived from it and never commits. */
  readonly groupId: string;
  readonly instanceId: string;
  /** What this instance learns from a catalog fact (titles, categories, prices, stock). */
  readonly apply: (item: ItemEvent) => void;
  readonly batchMaxMessages?: number;
  readonly pollMs?: number;
  readonly onLog?: (msg: string) => void;
}

/**
 * The catalog as every instance's local replica, like a Kafka Streams global table. The items
 * topic is keyed by item and the clickstream by user, so the partitions of `items` a member owns
 * hold an arbitrary third of the catalog: without a replica an instance would know the titles,
 * categories and stock of that third only, and its content model, stock filter and push texts
 * would be worse the more instances share the stream. The group member that owns a partition of
 * `items` still processes it in the graph (dead letters, commits, push triggers); the replica
 * reads every other partition from its start and applies the facts only. Catalog facts are
 * idempotent (a title, a price, a stock flag), so reading one twice changes nothing.
 */
export class CatalogReplica {
  private readonly consumer: KafkaConsumer;
  private partitions: number[] = [];
  /** Per partition read here: the next offset to read (where a re-assignment resumes). */
  private readonly next = new Map<number, number>();
  private owned = new Set<number>();
  private started = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  applied = 0;

  constructor(
    cfg: Config,
    private readonly opts: CatalogReplicaOptions,
  ) {
    this.maxFutureSkewMs = cfg.pipeline.maxFutureSkewMs;
    const rd = rdkafka();
    this.consumer = new rd.KafkaConsumer(
      {
        ...commonKafkaConfig(cfg),
        'group.id': `${opts.groupId}.catalog.${opts.instanceId}`,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'enable.partition.eof': false,
        'isolation.level': 'read_committed',
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.consumer.on('event.error', (err) => opts.onLog?.(`catalog replica: ${err.message}`));
  }

  private readonly maxFutureSkewMs: number;

  async connect(): Promise<void> {
    await callback((cb) => this.consumer.connect({ timeout: 30_000 }, cb));
    this.consumer.setDefaultConsumeTimeout(this.opts.pollMs ?? 100);
    const meta = await callback<{ topics: { name: string; partitions: { id: number }[] }[] }>(
      (cb) =>
        this.consumer.getMetadata(
          { topic: this.opts.topic, timeout: 10_000 },
          cb as (err: unknown, m: unknown) => void,
        ),
    );
    const topic = meta.topics.find((t) => t.name === this.opts.topic);
    this.partitions = (topic?.partitions ?? []).map((p) => p.id).sort((a, b) => a - b);
  }

  /**
   * With every assignment of the main consumer: the partitions of `items` this member owns now.
   * The replica reads all the others (a partition given up is read again from where the replica
   * left it, or from its start).
   */
  assigned(ownedItemPartitions: readonly number[]): void {
    this.owned = new Set(ownedItemPartitions);
    if (this.stopped) return;
    this.consumer.assign(
      this.partitions
        .filter((p) => !this.owned.has(p))
        .map((p) => ({ topic: this.opts.topic, partition: p, offset: this.next.get(p) ?? -2 })),
    );
    if (!this.started) {
      this.started = true;
      this.loop = this.run().catch((err: unknown) =>
        this.opts.onLog?.(`catalog replica stopped: ${(err as Error).message}`),
      );
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    if (this.consumer.isConnected())
      await callback((cb) => this.consumer.disconnect(cb)).catch(() => undefined);
  }

  private async run(): Promise<void> {
    const clock = { maxFutureSkewMs: this.maxFutureSkewMs };
    while (!this.stopped) {
      const messages = await callback<Message[]>((cb) =>
        this.consumer.consume(
          this.opts.batchMaxMessages ?? 500,
          cb as (err: unknown, m: Message[]) => void,
        ),
      );
      for (const m of messages) {
        // A partition this member owns now is the graph's: its facts come through there.
        if (this.owned.has(m.partition)) continue;
        this.next.set(m.partition, m.offset + 1);
        const v = validateItemMessage(m.value ?? '', clock);
        // What the owner dead-letters is none of the replica's business: it is skipped.
        if (!v.ok) continue;
        this.opts.apply(v.item);
        this.applied++;
      }
      // Let the pipeline run between polls: the replica shares its thread.
      if (messages.length === 0) await yieldToEventLoop();
    }
  }
}
