import {
  decodeUserWindows,
  WindowsRecordWriter,
  type KeyWindowsState,
  type PaneSink,
} from '../../features/window-changelog-codec.js';
import type { GraphBatch } from '../../operators/types.js';
import type { Config } from '../../config/schema.js';
import { readChangelog, type ChangelogValue } from '../../kafka/changelog-reader.js';
import type { Logger } from '../logger.js';
import type { OutMessage } from '../../kafka/transactional-producer.js';
import type { RestoreStep } from './restore-step.js';

/** The compacted changelog topic of the users' feature windows, per consumer group. */
export function featureChangelogTopic(group: string): string {
  return `${group}-feature-state-changelog`;
}

/** What the changelog needs of the feature store: one user's windows out and back in. */
export interface UserWindowsAccess {
  readonly watermark: number;
  readonly config: WindowHorizonConfig;
  exportWindows(entity: 'user', id: string): ReadonlyMap<string, KeyWindowsState> | undefined;
  /** The user's windows into a record (nothing when the store holds none). */
  writeWindows(entity: 'user', id: string, w: PaneSink): void;
  restoreWindows(
    entity: 'user',
    id: string,
    ts: number,
    windows: ReadonlyMap<string, KeyWindowsState>,
  ): void;
}

export interface FeatureChangelogOptions {
  readonly topic: string;
  readonly inputTopic: string;
  /**
   * Event time after a user's newest event at which none of their windows is readable any more
   * (longest window + out-of-orderness + allowed lateness): their record is then tombstoned.
   */
  readonly horizonMs: number;
  /** Users tracked (the feature store's user cap): beyond it the least recent is tombstoned. */
  readonly maxUsers: number;
  readonly read: (
    partitions: readonly number[],
    onRecord: (key: string, record: ChangelogValue) => void,
  ) => Promise<{ records: number }>;
  readonly onLog?: (msg: string, fields: Record<string, unknown>) => void;
  /**
   * Whether a user's events up to `ts` were erased (privacy/erased-users.ts): such a record is
   * not restored and gets a tombstone (one committed by a batch in flight at the erasure).
   */
  readonly erased?: (userId: string, ts: number) => boolean;
}

const NO_WINDOWS: ReadonlyMap<string, KeyWindowsState> = new Map();

interface Tracked {
  partition: number;
  ts: number;
}

/**
 * The users' feature windows checkpointed with the committed offsets (issue 13 item 3), like the
 * push state (push-changelog.ts): after each batch, each user the batch touched is written to a
 * compacted topic, keyed by user, in the partition of their input partition, inside the batch's
 * transaction (a delta: untouched users are not rewritten). A user whose windows have all passed
 * their lateness gets a tombstone, so the topic holds at most one record per user with readable
 * windows. Assigned partitions are read to their end and restored before the next batch;
 * revoked partitions' users stop being written here (the new owner restores them).
 */
export class FeatureChangelog {
  /**
   * userId → input partition and newest event time written, least recent first (touching
   * re-inserts). Bound: maxUsers entries; an expired or evicted entry leaves with a tombstone.
   */
  private readonly tracked = new Map<string, Tracked>();
  private restoring: Promise<void> = Promise.resolve();
  /** Records are written into shared chunks (see WindowsRecordWriter). */
  private readonly writer = new WindowsRecordWriter();
  /** Per batch, reused: the touched users' last input partition and newest event time. */
  private readonly batchPartition = new Map<string, number>();
  private readonly batchTs = new Map<string, number>();
  /** Tombstones of erased users, for the next batch's transaction. Bound: erasures since then. */
  private erased: OutMessage[] = [];

  constructor(
    private readonly store: UserWindowsAccess,
    private readonly opts: FeatureChangelogOptions,
  ) {}

  /**
   * Right after the store ingested `batch`: one record per user it touched (however many of
   * their events it holds), encoded from the store's pane arrays into a shared chunk.
   */
  take(batch: GraphBatch): OutMessage[] {
    const parts = this.batchPartition;
    const newest = this.batchTs;
    for (const { event, topic, partition } of batch.events) {
      if (topic !== this.opts.inputTopic) continue;
      const u = event.userId;
      parts.set(u, partition);
      const prev = newest.get(u);
      if (prev === undefined || event.ts > prev) newest.set(u, event.ts);
    }
    const out = this.erased;
    this.erased = [];
    const w = this.writer;
    for (const [userId, partition] of parts) {
      let t = this.tracked.get(userId);
      const ts = Math.max(t?.ts ?? -Infinity, newest.get(userId) as number);
      if (t !== undefined) this.tracked.delete(userId);
      w.begin(ts);
      this.store.writeWindows('user', userId, w);
      if (w.families === 0) {
        w.discard();
        out.push(this.tombstone(userId, partition));
        continue;
      }
      if (t === undefined) t = { partition, ts };
      else {
        t.partition = partition;
        t.ts = ts;
      }
      this.tracked.set(userId, t);
      const value = w.end();
      out.push({
        topic: this.opts.topic,
        partition,
        key: userId,
        value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
      });
    }
    parts.clear();
    newest.clear();
    this.expire(out);
    return out;
  }

  /**
   * Right to erasure (after the store forgot the user): the id leaves the tracking map and the
   * next batch's transaction carries the user's tombstone, after any record of theirs still in
   * flight. A user not tracked here has no record from this process.
   */
  forget(userId: string): void {
    const t = this.tracked.get(userId);
    if (t === undefined) return;
    this.tracked.delete(userId);
    this.erased.push(this.tombstone(userId, t.partition));
  }

  /** Tombstones the least recent users whose windows are all gone, and those over the cap. */
  private expire(out: OutMessage[]): void {
    const cutoff = this.store.watermark - this.opts.horizonMs;
    for (const [userId, t] of this.tracked) {
      if (t.ts >= cutoff && this.tracked.size <= this.opts.maxUsers) break;
      this.tracked.delete(userId);
      out.push(this.tombstone(userId, t.partition));
    }
  }

  private tombstone(userId: string, partition: number): OutMessage {
    return { topic: this.opts.topic, partition, key: userId, value: null };
  }

  /** On assignment: restores the partitions' users (awaited before the next batch). */
  assigned(partitions: readonly number[], around: RestoreStep = (step) => step()): void {
    if (partitions.length === 0) return;
    this.restoring = this.restoring.then(() => around(() => this.restore(partitions)));
  }

  ready(): Promise<void> {
    return this.restoring;
  }

  /** Drops a user's windows from the store (an empty record restores as no panes). */
  private clear(userId: string): void {
    if (this.store.exportWindows('user', userId) !== undefined)
      this.store.restoreWindows('user', userId, this.store.watermark, NO_WINDOWS);
  }

  /** The partitions went to another member: their users' windows leave this process. */
  revoked(partitions: readonly number[]): void {
    const gone = new Set(partitions);
    for (const [u, t] of this.tracked) {
      if (!gone.has(t.partition)) continue;
      this.tracked.delete(u);
      this.clear(u);
    }
  }

  private async restore(partitions: readonly number[]): Promise<void> {
    const started = Date.now();
    let unreadable = 0;
    let dropped = 0;
    const restored = new Set<string>();
    // Applied as read: a later record of a user replaces the earlier one in the store.
    const { records } = await this.opts.read(partitions, (userId, { partition, value }) => {
      if (!value) {
        this.tracked.delete(userId);
        if (restored.delete(userId)) this.clear(userId);
        return;
      }
      try {
        const rec = decodeUserWindows(new Uint8Array(value));
        if (this.opts.erased?.(userId, rec.ts)) {
          this.tracked.delete(userId);
          if (restored.delete(userId)) this.clear(userId);
          this.erased.push(this.tombstone(userId, partition));
          dropped++;
          return;
        }
        this.store.restoreWindows('user', userId, rec.ts, rec.windows);
        this.tracked.delete(userId);
        this.tracked.set(userId, { partition, ts: rec.ts });
        restored.add(userId);
      } catch {
        // Another version or damaged: the user's windows start empty, as before the changelog.
        unreadable++;
      }
    });
    this.opts.onLog?.('feature windows restored', {
      partitions,
      users: restored.size,
      records,
      unreadable,
      erased: dropped,
      seconds: (Date.now() - started) / 1000,
    });
  }
}

/** What the horizon is made of (FeatureConfig has it). */
export interface WindowHorizonConfig {
  readonly userWindows: readonly { readonly sizeMs: number }[];
  readonly outOfOrdernessMs: number;
  readonly allowedLatenessMs: number;
}

/** The horizon of FeatureChangelogOptions from the feature config. */
export function featureHorizonMs(features: WindowHorizonConfig): number {
  const longest = Math.max(0, ...features.userWindows.map((w) => w.sizeMs));
  return longest + features.outOfOrdernessMs + features.allowedLatenessMs;
}

/** `run`'s feature window changelog, or undefined when `pipeline.featureChangelog` is off. */
export function createFeatureChangelog(
  cfg: Config,
  store: UserWindowsAccess,
  topic: string,
  inputTopic: string,
  log: Pick<Logger, 'info'>,
  erased?: (userId: string, ts: number) => boolean,
): FeatureChangelog | undefined {
  if (!cfg.pipeline.featureChangelog) return undefined;
  return new FeatureChangelog(store, {
    topic,
    inputTopic,
    horizonMs: featureHorizonMs(store.config),
    maxUsers: cfg.limits.users,
    read: (partitions, onRecord) => readChangelog(cfg, topic, partitions, { onRecord }),
    onLog: (msg, fields) => log.info(fields, msg),
    ...(erased && { erased }),
  });
}
