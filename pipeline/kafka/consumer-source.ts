import { Observable } from 'rxjs';
import type { Config } from '../../config/schema.js';
import type { Batch, CommitPoint, RawMessage } from '../../operators/types.js';
import {
  callback,
  commonKafkaConfig,
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
  readonly onLog?: (msg: string) => void;
}

/**
 * A pull-based Kafka source: it asks librdkafka for the next batch only while fewer than
 * `maxInFlight` batches are unacknowledged, so a slow or failing sink stops consumption instead
 * of filling memory. Offsets are never auto-committed; the runtime commits after the sinks acked.
 */
export class KafkaConsumerSource {
  readonly consumer: KafkaConsumer;
  private inFlight = 0;
  private stopped = false;
  private wake: (() => void) | undefined;
  private seq = 0;

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
        'partition.assignment.strategy': 'cooperative-sticky',
        'session.timeout.ms': 10_000,
        'heartbeat.interval.ms': 1_000,
        'fetch.wait.max.ms': Math.min(100, opts.batchMaxMs),
        // librdkafka prefetches in the background whether or not the job pulls; its default cap
        // (64 MiB) would let a paused job (a store down, a big backlog) grow by that much.
        'queued.max.messages.kbytes': 16_384,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.consumer.on('event.error', (err) => opts.onLog?.(`kafka consumer error: ${err.message}`));
  }

  async connect(): Promise<void> {
    await callback((cb) => this.consumer.connect({ timeout: 30_000 }, cb));
    this.consumer.setDefaultConsumeTimeout(this.opts.batchMaxMs);
    this.consumer.subscribe([...this.opts.topics]);
  }

  /** Emits batches until stop(); each must be release()d once its work is committed. */
  batches(): Observable<Batch<RawMessage>> {
    return new Observable<Batch<RawMessage>>((subscriber) => {
      let active = true;
      const loop = async (): Promise<void> => {
        while (active && !this.stopped) {
          if (this.inFlight >= this.opts.maxInFlight) {
            await new Promise<void>((resolve) => (this.wake = resolve));
            continue;
          }
          const messages = await callback<Message[]>((cb) =>
            this.consumer.consume(
              this.opts.batchMaxMessages,
              cb as (err: unknown, m: Message[]) => void,
            ),
          );
          if (!active || messages.length === 0) continue;
          this.inFlight++;
          subscriber.next(toBatch(this.seq++, messages));
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

  release(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
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

  async disconnect(): Promise<void> {
    if (!this.consumer.isConnected()) return;
    await callback((cb) => this.consumer.disconnect(cb));
  }
}

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
    };
    const id = `${m.topic}\u0000${m.partition}`;
    const prev = next.get(id);
    if (!prev || prev.offset < m.offset + 1)
      next.set(id, { topic: m.topic, partition: m.partition, offset: m.offset + 1 });
  }
  return { seq, items, commits: [...next.values()] };
}
