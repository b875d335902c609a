import type { Config } from '../../config/schema.js';
import {
  callback,
  commonKafkaConfig,
  rdkafka,
  type KafkaConsumer,
  type Message,
} from '../../kafka/rdkafka.js';
import {
  auditErasure,
  eraseFromStores,
  openErasureStores,
  type ErasureRequest,
  type ErasureStores,
} from './erase-stores.js';

// eslint-disable-next-line no-control-regex -- ids with control characters are never stored
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A `privacy` message as a request, or undefined when it is not one (logged and skipped). */
export function parseErasureMessage(
  value: Buffer | string | null | undefined,
  fallbackId: string,
): ErasureRequest | undefined {
  let v: unknown;
  try {
    v = JSON.parse(String(value ?? ''));
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object') return undefined;
  const { user_id: u, ts, request_id: r } = v as Record<string, unknown>;
  if (typeof u !== 'string' || u.length === 0 || u.length > 128 || CONTROL.test(u))
    return undefined;
  const at = typeof ts === 'number' && Number.isFinite(ts) ? ts : Date.parse(String(ts));
  return {
    requestId: typeof r === 'string' && r.length > 0 && r.length <= 128 ? r : fallbackId,
    userIds: [u],
    requestedMs: Number.isFinite(at) ? at : Date.now(),
  };
}

export interface ErasureListenerOptions {
  readonly groupId: string;
  readonly instanceId: string;
  /** Erases the users from the process's memory; returns counts for the audit row. */
  readonly eraseOnline: (userIds: readonly string[], requestedMs: number) => Record<string, number>;
  /**
   * Waits until what was served before the erasure is committed (so no write in flight puts the
   * user back), then saves a snapshot without them.
   */
  readonly settle: () => Promise<void>;
  readonly onLog: (msg: string, fields?: Record<string, unknown>) => void;
}

/**
 * `run`'s reader of the `privacy` topic. Every instance reads every partition (its own consumer
 * group, `{group}.privacy.{instance}`): each holds its own online state and snapshot. Per
 * request: memory first, then, once in-flight writes are committed, a snapshot and the stores,
 * then the audit row; the offset is committed only after that, so a crash repeats the request
 * (erasure is idempotent) rather than skipping it.
 */
export class ErasureListener {
  private readonly consumer: KafkaConsumer;
  private readonly stores: ErasureStores;
  private stopped = false;
  private loop: Promise<void> | undefined;
  completed = 0;

  constructor(
    private readonly cfg: Config,
    private readonly opts: ErasureListenerOptions,
  ) {
    const rd = rdkafka();
    this.consumer = new rd.KafkaConsumer(
      {
        ...commonKafkaConfig(cfg),
        'group.id': `${opts.groupId}.privacy.${opts.instanceId}`,
        'enable.auto.commit': false,
        'enable.partition.eof': false,
        'isolation.level': 'read_committed',
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.consumer.on('event.error', (err) => opts.onLog(`privacy listener: ${err.message}`));
    this.stores = openErasureStores(cfg);
  }

  async start(): Promise<void> {
    await callback((cb) => this.consumer.connect({ timeout: 30_000 }, cb));
    this.consumer.setDefaultConsumeTimeout(200);
    this.consumer.subscribe([this.cfg.privacy.topic]);
    this.loop = this.run().catch((err: unknown) =>
      this.opts.onLog('privacy listener stopped', { err: (err as Error).message }),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    if (this.consumer.isConnected())
      await callback((cb) => this.consumer.disconnect(cb)).catch(() => undefined);
    await this.stores.close();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const messages = await callback<Message[]>((cb) =>
        this.consumer.consume(100, cb as (err: unknown, m: Message[]) => void),
      );
      if (messages.length === 0) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      for (const m of messages) {
        const req = parseErasureMessage(m.value, `${m.topic}/${m.partition}/${m.offset}`);
        if (!req) this.opts.onLog('privacy: not an erasure request, skipped', { offset: m.offset });
        // Until it succeeds: an erasure is never skipped, and a retry repeats nothing harmful.
        else
          for (let attempt = 1; !(await this.handle(req, attempt)); attempt++)
            await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
        this.consumer.commitMessage(m);
        if (this.stopped) return;
      }
    }
  }

  private async handle(req: ErasureRequest, attempt: number): Promise<boolean> {
    try {
      const online = this.opts.eraseOnline(req.userIds, req.requestedMs);
      await this.opts.settle();
      const removed = await eraseFromStores(this.cfg, this.stores, req.userIds, this.opts.groupId);
      const completedMs = Date.now();
      const actor = `run:${this.opts.groupId}:${this.opts.instanceId}`;
      await auditErasure(this.cfg, this.stores, req, actor, { online, ...removed }, completedMs);
      this.completed++;
      this.opts.onLog('erasure completed', {
        request: req.requestId,
        ms: completedMs - req.requestedMs,
      });
      return true;
    } catch (err) {
      this.opts.onLog('erasure failed; retrying', {
        request: req.requestId,
        attempt,
        err: (err as Error).message,
      });
      return this.stopped;
    }
  }
}
