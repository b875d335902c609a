import type { Config } from '../../config/schema.js';
import type { PushEngine } from '../../push/engine.js';
import type { GraphBatch } from '../../operators/types.js';
import { encodedUserActivity } from '../../push/user-codec.js';
import { readChangelog, type ChangelogValue } from '../../kafka/changelog-reader.js';
import type { Logger } from '../logger.js';
import { endOffsets, type TopicSpec } from '../../kafka/admin.js';
import type { OutMessage } from '../../kafka/transactional-producer.js';
import type { RestoreStep } from './restore-step.js';

/** The compacted changelog topic of the push engine's per-user state, per consumer group. */
export function pushChangelogTopic(group: string): string {
  return `${group}-push-state-changelog`;
}

/**
 * The changelog topic: one partition per input partition (a user's record lives in the partition
 * of their events), compacted. Short segments let compaction reach records within the hour, and
 * tombstones stay a day so a restore that started before a delete still sees it.
 */
export async function pushChangelogSpec(
  cfg: Config,
  inputTopic: string,
  group: string,
): Promise<TopicSpec> {
  const partitions = (await endOffsets(cfg, inputTopic)).length;
  return {
    name: pushChangelogTopic(group),
    partitions: Math.max(1, partitions),
    config: {
      'cleanup.policy': 'compact',
      'segment.ms': '3600000',
      'min.cleanable.dirty.ratio': '0.1',
      'delete.retention.ms': '86400000',
    },
  };
}

export interface PushChangelogOptions {
  readonly topic: string;
  readonly inputTopic: string;
  /** Reads the given changelog partitions to their end (read_committed), record by record. */
  readonly read: (
    partitions: readonly number[],
    onRecord: (key: string, record: ChangelogValue) => void,
  ) => Promise<{ records: number }>;
  readonly onLog?: (msg: string, fields: Record<string, unknown>) => void;
  /**
   * Whether a user's activity up to `ts` was erased (privacy/erased-users.ts): such a record
   * (one committed by a batch in flight at the erasure, after the forget command's tombstones)
   * is not restored and gets a tombstone, as in the feature changelog.
   */
  readonly erased?: (userId: string, ts: number) => boolean;
}

/**
 * The push engine's per-user state (pending carts, deferred pushes, burst windows, policy
 * counters, attribution) checkpointed with the committed offsets, as Kafka Streams does it
 * (issue 13 item 3): after each batch, every user whose state changed is written to a compacted
 * changelog topic, keyed by user, in the partition of the user's input partition, and the record
 * goes into the batch's Kafka transaction with its offsets. A user whose state went (expired,
 * evicted, erased) gets a tombstone, so compaction keeps one record per live user. When input
 * partitions are assigned, their changelog partitions are read to the end and restored before
 * the next batch is processed; when they are revoked, their users leave this process (no
 * tombstone: the new owner restores them).
 */
export class PushChangelog {
  /**
   * userId → input partition, learned from the user's events here or from their restored
   * record. Bounded by the engine's users: an entry goes with the user's tombstone.
   */
  private readonly partitions = new Map<string, number>();
  private restoring: Promise<void> = Promise.resolve();
  /** Tombstones of erased users found on restore, for the next batch's transaction. */
  private erased: OutMessage[] = [];

  constructor(
    private readonly engine: PushEngine,
    private readonly opts: PushChangelogOptions,
  ) {
    engine.trackChanges();
  }

  /**
   * Right after the engine processed `batch`: the changelog records of the users it changed.
   * A user never seen in an input event here (a preference alone) has no partition and is not
   * written: their state stays in this process only.
   */
  take(batch: GraphBatch): OutMessage[] {
    for (const { event, topic, partition } of batch.events)
      if (topic === this.opts.inputTopic) this.partitions.set(event.userId, partition);
    const out = this.erased;
    this.erased = [];
    for (const { userId, bytes } of this.engine.takeChanges()) {
      const partition = this.partitions.get(userId);
      if (partition === undefined) continue;
      if (!bytes) this.partitions.delete(userId);
      out.push({
        topic: this.opts.topic,
        partition,
        key: userId,
        value: bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : null,
      });
    }
    return out;
  }

  /** On assignment: restores the partitions' users (awaited before the next batch). */
  assigned(partitions: readonly number[], around: RestoreStep = (step) => step()): void {
    if (partitions.length === 0) return;
    this.restoring = this.restoring.then(() => around(() => this.restore(partitions)));
  }

  ready(): Promise<void> {
    return this.restoring;
  }

  /** The partitions went to another member: their users leave this process. */
  revoked(partitions: readonly number[]): void {
    const gone = new Set(partitions);
    const users: string[] = [];
    for (const [u, p] of this.partitions) if (gone.has(p)) users.push(u);
    this.engine.releaseUsers(users);
    for (const u of users) this.partitions.delete(u);
  }

  private async restore(partitions: readonly number[]): Promise<void> {
    const started = Date.now();
    // Applied as read (a later record of a user replaces the earlier one, a tombstone drops it):
    // the records are never all held at once.
    const restored = new Set<string>();
    let unreadable = 0;
    let dropped = 0;
    const { records } = await this.opts.read(partitions, (userId, { partition, value }) => {
      if (value) {
        try {
          const bytes = new Uint8Array(value);
          if (this.opts.erased?.(userId, encodedUserActivity(bytes))) {
            this.engine.releaseUsers([userId]);
            this.partitions.delete(userId);
            restored.delete(userId);
            this.erased.push({ topic: this.opts.topic, partition, key: userId, value: null });
            dropped++;
            return;
          }
          this.engine.restoreUser(userId, bytes);
          this.partitions.set(userId, partition);
          restored.add(userId);
          return;
        } catch {
          // A record of another version or damaged: the user starts empty, like before issue 13.
          unreadable++;
        }
      }
      this.engine.releaseUsers([userId]);
      this.partitions.delete(userId);
      restored.delete(userId);
    });
    const users = restored.size;
    this.opts.onLog?.('push state restored', {
      partitions,
      users,
      records,
      unreadable,
      erased: dropped,
      seconds: (Date.now() - started) / 1000,
    });
  }
}

/** `run`'s push changelog, or undefined when `pipeline.stateChangelog` is off. */
export function createPushChangelog(
  cfg: Config,
  engine: PushEngine,
  topic: string,
  inputTopic: string,
  log: Pick<Logger, 'info'>,
  erased?: (userId: string, ts: number) => boolean,
): PushChangelog | undefined {
  if (!cfg.pipeline.stateChangelog) return undefined;
  return new PushChangelog(engine, {
    topic,
    inputTopic,
    read: (partitions, onRecord) => readChangelog(cfg, topic, partitions, { onRecord }),
    onLog: (msg, fields) => log.info(fields, msg),
    ...(erased && { erased }),
  });
}
