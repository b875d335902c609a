import { concat, defer, finalize, ignoreElements, mergeMap, type OperatorFunction } from 'rxjs';

/** What the stages pass along: its place in the stream and its size (the in-flight bound). */
export interface Sequenced {
  readonly seq: number;
  readonly messages: number;
}

/**
 * What happens to a processed batch, in three ordered stages of different speeds.
 * - `serve`: the serving state (push claims, Redis lists, purchases). Users see it, so it runs
 *   as soon as a batch is processed; batches that queue behind a slow call are served together.
 * - `store`: the analytics record (ClickHouse, Redis feature hashes). Bulk: the rows of many
 *   batches in one write per table, up to `flushMs` behind serving, which keeps ClickHouse at
 *   about one insert per table per second instead of one per batch.
 * - `commit`: one Kafka transaction with the stored batches' dead letters, push messages and
 *   input offsets. Offsets are therefore committed only after every store acknowledged.
 * Each stage resolves only when its store acknowledged, and retries outages itself.
 */
export interface DeliveryStages<B extends Sequenced, S extends Sequenced> {
  /** Returns what the later stages need of each batch (the batch itself can then die young). */
  serve(batches: readonly B[]): Promise<readonly S[]>;
  store(served: readonly S[]): Promise<void>;
  commit(served: readonly S[]): Promise<void>;
}

export interface DeliveryOptions<S extends Sequenced> {
  /** A served batch waits at most this long for its analytics write and commit. */
  readonly flushMs: number;
  /** ...or until this many messages are waiting. */
  readonly flushMaxMessages: number;
  /**
   * ...or this many batches. Small batches (a quiet stream is fetched a few messages at a time)
   * would otherwise reach the source's in-flight bound before `flushMs` and stall it.
   */
  readonly flushMaxBatches?: number;
  /** In seq order, once per batch, after its serving writes were acknowledged. */
  readonly onServed?: (served: readonly S[]) => void;
  /** In seq order, once per batch, after its commit. */
  readonly onCommitted: (served: readonly S[]) => void;
  readonly now?: () => number;
}

interface Waiting<B> {
  readonly batch: B;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Runs the stages for batches handed over in order (`serve` returns once the batch is served;
 * analytics and commit follow asynchronously). Serving never waits for ClickHouse, commits stay
 * in order, and nothing is committed before all stores acknowledged: pipelining with ordered
 * commits. One serve call and one store+commit run at a time; whatever arrives meanwhile is
 * grouped into the next call (smart batching: no fixed delay when idle, big writes under load).
 */
export class Delivery<B extends Sequenced, S extends Sequenced> {
  private readonly now: () => number;
  private toServe: Waiting<B>[] = [];
  private serving = false;
  private stored: S[] = [];
  private storedMessages = 0;
  private oldestStoredAt = 0;
  private flushing = false;
  private flushRequested = false;
  private timer: NodeJS.Timeout | undefined;
  private draining = false;
  private failure: unknown;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly failedWaiters: ((err: unknown) => void)[] = [];

  constructor(
    private readonly stages: DeliveryStages<B, S>,
    private readonly opts: DeliveryOptions<S>,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Hands over the next batch (in seq order); resolves once its serving writes are done. */
  serve(batch: B): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.toServe.push({ batch, resolve, reject });
      this.pumpServe();
    });
  }

  /**
   * The topology's `sinks` stage (pipeline/topology.ts): hands each batch over in order and
   * emits once its serving writes were acknowledged; analytics and commit follow in their lane.
   */
  sinkStage(): OperatorFunction<B, void> {
    return mergeMap((batch) => this.serve(batch));
  }

  /**
   * The topology's `commit` stage: commits run in the analytics lane, in batch order; this
   * completes with one value once the source ended and everything handed over is committed.
   */
  commitStage(onSourceEnd: () => void): OperatorFunction<void, void> {
    return (served) =>
      concat(
        served.pipe(ignoreElements(), finalize(onSourceEnd)),
        defer(() => this.drain()),
      );
  }

  /** Writes and commits what is served so far without waiting for the flush interval. */
  flushNow(): void {
    this.flushRequested = true;
    this.pumpFlush();
  }

  /** Batches handed over and not committed yet. */
  get pending(): number {
    return this.toServe.length + this.stored.length;
  }

  /** Everything handed over is committed; rejects if a stage gave up (the drain deadline). */
  drain(): Promise<void> {
    this.draining = true;
    this.pumpFlush();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.failure !== undefined) reject(this.failure);
        else if (this.isIdle()) resolve();
        else this.idleWaiters.push(check);
      };
      check();
    });
  }

  /** Rejects when a stage gives up; never resolves otherwise. */
  failed(): Promise<never> {
    return new Promise<never>((_, reject) => {
      if (this.failure !== undefined) reject(this.failure);
      else this.failedWaiters.push(reject);
    });
  }

  private isIdle(): boolean {
    return !this.serving && !this.flushing && this.toServe.length === 0 && this.stored.length === 0;
  }

  private pumpServe(): void {
    if (this.serving || this.toServe.length === 0 || this.failure !== undefined) return;
    const group = this.toServe;
    this.toServe = [];
    this.serving = true;
    this.stages
      .serve(group.map((w) => w.batch))
      .then(
        (served) => {
          this.opts.onServed?.(served);
          for (const b of served) this.enqueueStore(b);
          for (const w of group) w.resolve();
        },
        (err: unknown) => {
          for (const w of group) w.reject(err);
          this.fail(err);
        },
      )
      .finally(() => {
        this.serving = false;
        this.pumpServe();
        this.pumpFlush();
        this.notifyIdle();
      });
  }

  private enqueueStore(batch: S): void {
    if (this.stored.length === 0) this.oldestStoredAt = this.now();
    this.stored.push(batch);
    this.storedMessages += batch.messages;
    this.pumpFlush();
  }

  private pumpFlush(): void {
    if (this.flushing || this.stored.length === 0 || this.failure !== undefined) return;
    const due =
      this.draining ||
      this.flushRequested ||
      this.storedMessages >= this.opts.flushMaxMessages ||
      this.stored.length >= (this.opts.flushMaxBatches ?? Number.POSITIVE_INFINITY) ||
      this.now() - this.oldestStoredAt >= this.opts.flushMs;
    if (!due) {
      this.timer ??= setTimeout(
        () => {
          this.timer = undefined;
          this.pumpFlush();
        },
        Math.max(0, this.oldestStoredAt + this.opts.flushMs - this.now()),
      );
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.stored;
    this.stored = [];
    this.storedMessages = 0;
    this.flushRequested = false;
    this.flushing = true;
    (async () => {
      await this.stages.store(group);
      await this.stages.commit(group);
      this.opts.onCommitted(group);
    })()
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        this.flushing = false;
        this.pumpFlush();
        this.notifyIdle();
      });
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    clearTimeout(this.timer);
    for (const w of this.toServe) w.reject(err);
    this.toServe = [];
    for (const r of this.failedWaiters.splice(0)) r(err);
    this.notifyIdle();
  }

  private notifyIdle(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
