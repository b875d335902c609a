import { randomUUID } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../../config/schema.js';
import { decodeItemDeltas, encodeItemDeltas } from '../../models/core/item-delta-codec.js';
import { isItemStateModel, type ItemStateModel } from '../../models/hybrid-replica.js';
import type { ClickEvent } from '../../models/event.js';
import type { Recommender } from '../../models/recommender.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { endOffsets, type TopicSpec } from '../../kafka/admin.js';
import {
  callback,
  commonKafkaConfig,
  rdkafka,
  type KafkaConsumer,
  type Message,
} from '../../kafka/rdkafka.js';
import type { OutMessage } from '../../kafka/transactional-producer.js';
import type { LearnLedger } from './learn-ledger.js';
import type { RunBatch } from './run-stages.js';
import { yieldToEventLoop } from './event-loop.js';

/** The repartition topic of item-side model changes, keyed (partitioned) by item. */
export function itemDeltasTopic(group: string): string {
  return `${group}-item-deltas`;
}

/**
 * As many partitions as the input topic (the unit of parallelism), deleted after a week: an
 * instance restarting from a snapshot up to a week old finds every delta it has not applied.
 */
export async function itemDeltasSpec(
  cfg: Config,
  inputTopic: string,
  group: string,
): Promise<TopicSpec> {
  const partitions = (await endOffsets(cfg, inputTopic)).length;
  return {
    name: itemDeltasTopic(group),
    partitions: Math.max(1, partitions),
    config: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * 86_400_000) },
  };
}

/**
 * The replica when `scale.itemState` is 'replica' and the model can exchange item deltas;
 * otherwise undefined (the follower keeps item state whole by learning every partition).
 */
export function createItemStateReplica(
  cfg: Config,
  group: string,
  model: Recommender,
  ledger: LearnLedger,
  metrics: Pick<Metrics, 'registry'>,
  log: Pick<Logger, 'warn'>,
): ItemStateReplica | undefined {
  if (cfg.scale.itemState !== 'replica') return undefined;
  if (!isItemStateModel(model)) {
    log.warn({ model: model.name }, 'model cannot exchange item deltas: the follower is used');
    return undefined;
  }
  return new ItemStateReplica(cfg, {
    group,
    instanceId: cfg.kafka.instanceId,
    model,
    ledger,
    registry: metrics.registry,
    onLog: (msg) => log.warn(msg),
  });
}

/** Where the ledger keeps the next delta offset to apply: keys below the input partitions'. */
export function deltaLedgerKey(partition: number): number {
  return -1 - partition;
}

export interface ItemStateReplicaOptions {
  readonly group: string;
  readonly instanceId: string;
  readonly model: ItemStateModel;
  /** Saved with the model snapshot, so a restart applies each delta once. */
  readonly ledger: LearnLedger;
  readonly registry: Registry;
  readonly pollMs?: number;
  readonly onLog?: (msg: string) => void;
}

/**
 * Item-side model state shared through Kafka instead of every instance learning every event
 * (issue 14, docs/scaling.md "Item state replica"). Each instance learns only the partitions it
 * owns; the item-side changes of each batch go, one record per item partition, into the batch's
 * own transaction on `{group}-item-deltas` (so they are visible exactly when its offsets are
 * committed), and every instance applies the other instances' committed records to its model.
 * Applying a record costs a few additions per item and pair, against validating, de-duplicating
 * and learning each event of the batch.
 */
export class ItemStateReplica {
  readonly topic: string;
  private readonly consumer: KafkaConsumer;
  /** This process's records are skipped (their changes are in the model already). */
  private readonly run = randomUUID();
  private partitions: number[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly m: ReturnType<typeof replicaMetrics>;

  constructor(
    cfg: Config,
    private readonly opts: ItemStateReplicaOptions,
  ) {
    this.topic = itemDeltasTopic(opts.group);
    this.consumer = new (rdkafka().KafkaConsumer)(
      {
        ...commonKafkaConfig(cfg),
        // Assigns by hand and never commits: its positions live in the model's snapshot.
        'group.id': `${opts.group}.item-state.${opts.instanceId}`,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'isolation.level': 'read_committed',
        'fetch.wait.max.ms': 50,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.consumer.on('event.error', (err) => opts.onLog?.(`item state replica: ${err.message}`));
    this.m = replicaMetrics(opts.registry);
  }

  async connect(): Promise<void> {
    await callback((cb) => this.consumer.connect({ timeout: 30_000 }, cb));
    this.consumer.setDefaultConsumeTimeout(this.opts.pollMs ?? 50);
    const meta = await callback<{ topics: { name: string; partitions: { id: number }[] }[] }>(
      (cb) =>
        this.consumer.getMetadata(
          { topic: this.topic, timeout: 10_000 },
          cb as (err: unknown, m: unknown) => void,
        ),
    );
    const topic = meta.topics.find((t) => t.name === this.topic);
    this.partitions = (topic?.partitions ?? []).map((p) => p.id).sort((a, b) => a - b);
    if (this.partitions.length === 0) throw new Error(`topic ${this.topic} does not exist`);
    this.opts.model.recordItemDeltas(this.partitions.length);
    this.consumer.assign(
      this.partitions.map((p) => ({
        topic: this.topic,
        partition: p,
        offset: this.opts.ledger.get(deltaLedgerKey(p)) ?? -2,
      })),
    );
    this.loop = this.read().catch((err: unknown) =>
      this.opts.onLog?.(`item state replica stopped: ${(err as Error).message}`),
    );
  }

  /**
   * What the follower learns here: the user side of a partition that moved to this instance
   * (the previous owner's deltas brought its item side already).
   */
  readonly learn = (event: ClickEvent): void => this.opts.model.learnUser(event);

  /** Right after the graph learned the batch: its item changes go into its transaction. */
  attach(batch: RunBatch): RunBatch {
    const records = this.opts.model.takeItemDeltas(this.partitions.length);
    if (records.length === 0) return batch;
    const headers = { instance: this.opts.instanceId, run: this.run };
    const out: OutMessage[] = records.map((r) => {
      const value = encodeItemDeltas(r);
      this.m.bytes.inc(value.byteLength);
      return {
        topic: this.topic,
        partition: r.partition,
        value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
        headers,
      };
    });
    this.m.published.inc(out.length);
    return { ...batch, stateChanges: [...(batch.stateChanges ?? []), ...out] };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    if (this.consumer.isConnected())
      await callback((cb) => this.consumer.disconnect(cb)).catch(() => undefined);
  }

  private async read(): Promise<void> {
    while (!this.stopped) {
      const messages = await callback<Message[]>((cb) =>
        this.consumer.consume(200, cb as (err: unknown, m: Message[]) => void),
      ).catch((err: unknown) => {
        this.opts.onLog?.(`item state replica consume failed: ${(err as Error).message}`);
        return new Promise<Message[]>((r) => setTimeout(() => r([]), 500));
      });
      for (const m of messages) this.apply(m);
      // The replica shares the pipeline's thread: let it run between polls.
      if (messages.length === 0) await yieldToEventLoop();
    }
  }

  private apply(m: Message): void {
    const key = deltaLedgerKey(m.partition);
    if (!this.opts.ledger.claim(key, m.offset)) return;
    if (this.own(m) || !m.value) return;
    const record = decodeItemDeltas(m.value);
    if (!record) {
      this.m.invalid.inc();
      return;
    }
    this.opts.model.applyItemDeltas(record);
    this.m.applied.inc();
    this.m.appliedThrough.set(record.last / 1000);
  }

  private own(m: Message): boolean {
    for (const h of m.headers ?? []) {
      const v = h.run;
      if (v !== undefined) return v.toString() === this.run;
    }
    return false;
  }
}

function replicaMetrics(registry: Registry) {
  const r = { registers: [registry] };
  return {
    published: new Counter({
      name: 'recpipe_item_deltas_published_total',
      help: 'Item delta records this instance wrote (one per item partition per batch)',
      ...r,
    }),
    bytes: new Counter({
      name: 'recpipe_item_deltas_published_bytes_total',
      help: 'Bytes of the item delta records this instance wrote',
      ...r,
    }),
    applied: new Counter({
      name: 'recpipe_item_deltas_applied_total',
      help: "Other instances' item delta records applied to this instance's model",
      ...r,
    }),
    invalid: new Counter({
      name: 'recpipe_item_deltas_invalid_total',
      help: 'Records of the item delta topic that were not item deltas (skipped)',
      ...r,
    }),
    appliedThrough: new Gauge({
      name: 'recpipe_item_deltas_applied_event_time_seconds',
      help: 'Newest event time of the last applied item delta record',
      ...r,
    }),
  };
}
