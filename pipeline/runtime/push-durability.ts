import type { Config } from '../../config/schema.js';
import type { PushEngine } from '../../push/engine.js';
import type { GraphBatch } from '../../operators/types.js';
import type { PushClaims } from '../../sinks/redis-push-policy.js';
import type { OutMessage } from '../../kafka/transactional-producer.js';
import type { Logger } from '../logger.js';
import {
  createFeatureChangelog,
  featureChangelogTopic,
  type FeatureChangelog,
  type UserWindowsAccess,
} from './feature-changelog.js';
import { createPushChangelog, pushChangelogTopic, type PushChangelog } from './push-changelog.js';
import { createPushOutbox, type PushOutbox } from './push-outbox.js';
import type { RestoreStep } from './restore-step.js';
import type { RunBatch } from './run-stages.js';
import { retryUntilDone } from './retry.js';

/**
 * What makes `run`'s per-partition state durable (issue 13): the Redis outbox (exactly-once
 * sends across crashes, push-outbox.ts), the push state changelog (push-changelog.ts) and the
 * feature window changelog (feature-changelog.ts), driven by the consumer's assignments. Each
 * resolves a newly assigned partition before the next batch.
 */
export class PushDurability {
  readonly outbox: PushOutbox | undefined;
  private readonly changelog: PushChangelog | undefined;
  private readonly featureLog: FeatureChangelog | undefined;
  /** The changelog topics whose records go with a batch's transaction. */
  private readonly changelogTopics: ReadonlySet<string>;
  private readonly settled: () => Promise<void>;
  private readonly stopping: () => boolean;

  constructor(
    cfg: Config,
    opts: {
      readonly push: PushEngine | undefined;
      /** The feature store, when its user windows go to a changelog (pipeline.featureChangelog). */
      readonly features?: UserWindowsAccess | undefined;
      readonly claims: PushClaims | undefined;
      readonly group: string;
      /** The input topic. */
      readonly topic: string;
      /**
       * Resolves once the batches processed so far have committed or failed, none in the middle
       * of its transaction: a restore reads what they committed (see assigned()).
       */
      readonly settled?: () => Promise<void>;
      /** The job is stopping: a failing restore is no longer retried. */
      readonly stopping?: () => boolean;
      /** Whether the user's events up to `ts` were erased: their records are not restored. */
      readonly erased?: (userId: string, ts: number) => boolean;
    },
    private readonly log: Pick<Logger, 'info' | 'warn'>,
    /** Whether this member still owns the input partition (its state is still ours to write). */
    private readonly owns: (partition: number) => boolean,
  ) {
    this.outbox = opts.claims ? createPushOutbox(cfg, opts.claims, opts.topic, log) : undefined;
    const pushTopic = pushChangelogTopic(opts.group);
    const featureTopic = featureChangelogTopic(opts.group);
    this.changelogTopics = new Set([pushTopic, featureTopic]);
    this.settled = opts.settled ?? (() => Promise.resolve());
    this.stopping = opts.stopping ?? (() => false);
    this.changelog = opts.push
      ? createPushChangelog(cfg, opts.push, pushTopic, opts.topic, log, opts.erased)
      : undefined;
    this.featureLog = opts.features
      ? createFeatureChangelog(cfg, opts.features, featureTopic, opts.topic, log, opts.erased)
      : undefined;
  }

  /**
   * Each restore first lets this job's own commits settle: a transaction still open when the
   * read starts is not in it (read_committed ends at the last stable offset), and if it then
   * committed, its state changes would be missing while its offsets skip their input (and the
   * outbox would send its pushes again). Processed batches never wait for a restore, so this
   * cannot wait on itself. A failed read (the broker just back, a timeout) is retried with a
   * warning instead of ending the job.
   */
  assigned(partitions: readonly number[]): void {
    this.outbox?.assigned(partitions, this.around);
    this.changelog?.assigned(partitions, this.around);
    this.featureLog?.assigned(partitions, this.around);
  }

  private readonly around: RestoreStep = async (step) => {
    await this.settled();
    await retryUntilDone(step, {
      aborted: this.stopping,
      onError: (err, attempt) =>
        this.log.warn({ err: String(err), attempt }, 'state restore failed; retrying'),
    });
  };

  revoked(partitions: readonly number[]): void {
    this.changelog?.revoked(partitions);
    this.featureLog?.revoked(partitions);
  }

  /**
   * Right to erasure, after the stores forgot the user: the feature changelog stops tracking
   * them and tombstones their record (the push changelog does so through the engine's changes).
   */
  forgetUser(userId: string): void {
    this.featureLog?.forget(userId);
  }

  /** Resolves once every assigned partition's outbox and state are restored. */
  async ready(): Promise<void> {
    await this.outbox?.ready();
    await this.changelog?.ready();
    await this.featureLog?.ready();
  }

  /** Right after the engine and the feature store processed the batch: its changelog records. */
  attach(batch: GraphBatch): RunBatch {
    if (!this.changelog && !this.featureLog) return batch;
    const push = this.changelog?.take(batch) ?? [];
    const features = this.featureLog?.take(batch) ?? [];
    return { ...batch, stateChanges: features.length === 0 ? push : [...push, ...features] };
  }

  /**
   * The messages of one transaction, with only the last changelog record per topic and user:
   * earlier ones are superseded in the same commit (Kafka Streams' caching does the same).
   */
  readonly compact = (out: readonly OutMessage[]): OutMessage[] => {
    const id = (m: OutMessage): string | undefined =>
      this.changelogTopics.has(m.topic) && m.key !== undefined
        ? `${m.topic}\u0000${m.key}`
        : undefined;
    const last = new Map<string, number>();
    out.forEach((m, i) => {
      const k = id(m);
      if (k !== undefined) last.set(k, i);
    });
    return out.filter((m, i) => {
      const k = id(m);
      return k === undefined || last.get(k) === i;
    });
  };

  /** A lost partition's state is its new owner's to write: its records are not committed. */
  readonly mayCommit = (m: OutMessage): boolean =>
    !this.changelogTopics.has(m.topic) || m.partition === undefined || this.owns(m.partition);
}
