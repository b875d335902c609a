import type { Config } from '../../config/schema.js';
import type { GraphBatch, RawMessage } from '../../operators/types.js';
import { callback, type KafkaConsumer } from '../../kafka/rdkafka.js';
import type { Logger } from '../logger.js';
import type { Registry } from 'prom-client';
import type { ClickEvent } from '../../models/event.js';
import type { ErasedUsers } from '../../privacy/erased-users.js';
import { Follower } from './follower.js';
import type { LearnLedger } from './learn-ledger.js';

/**
 * `run`'s follower (config `scale.follow`, else undefined): it learns what the graph would learn
 * from the events of partitions other instances own, through the graph's own operators
 * (follower-prefix.ts): pseudonymised, deduplicated, without what erased users sent before
 * their erasure.
 */
export function createRunFollower(
  cfg: Config,
  o: {
    readonly topic: string;
    readonly group: string;
    readonly ledger: LearnLedger;
    readonly erased: ErasedUsers;
    /** The model, or the item state replica (which then learns only the user side). */
    readonly learner: { learn(event: ClickEvent): void };
    readonly followOthers: boolean;
    readonly registry: Registry;
    readonly log: Pick<Logger, 'warn'>;
    readonly frontier: () => number;
  },
): Follower | undefined {
  if (!cfg.scale.follow) return undefined;
  const key = cfg.privacy.userIdHashKey;
  return new Follower(cfg, {
    topic: o.topic,
    groupId: o.group,
    instanceId: cfg.kafka.instanceId,
    ledger: o.ledger,
    learn: (e) => o.learner.learn(e),
    ...(key && { userIdHashKey: key }),
    erased: o.erased,
    followOthers: o.followOthers,
    dedupeCapacity: cfg.pipeline.dedupeCapacity,
    registry: o.registry,
    frontier: o.frontier,
    onLog: (msg, fields) => o.log.warn(fields ?? {}, msg),
  });
}

/**
 * Where the group resumes each newly assigned partition: the follower learns up to there while
 * the consumer fetches, instead of on the partition's first batch.
 */
export async function prepareFollower(
  consumer: KafkaConsumer,
  topic: string,
  partitions: number[],
  follower: Follower,
  log: Pick<Logger, 'debug'>,
): Promise<void> {
  try {
    const offsets = await callback<{ partition: number; offset: number }[]>((cb) =>
      consumer.committed(
        partitions.map((partition) => ({ topic, partition })),
        10_000,
        cb as (err: unknown, offsets: unknown) => void,
      ),
    );
    for (const o of offsets) if (o.offset >= 0) follower.prepare(o.partition, o.offset);
  } catch (err) {
    // The first batch's handoff still catches up; this only starts it early.
    log.debug({ err: String(err) }, 'committed offsets not read');
  }
}

/** First offset of each partition of `topic` in a batch read: the follower's handoff point. */
export function firstOffsetsOf(items: readonly RawMessage[], topic: string): Map<number, number> {
  const first = new Map<number, number>();
  for (const m of items)
    if (m.topic === topic && !first.has(m.partition)) first.set(m.partition, m.offset);
  return first;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NEGATIVE_INFINITY;
  xs.sort((a, b) => a - b);
  return xs[xs.length >> 1] as number;
}

/**
 * Before a batch is served: a partition that just moved here is learned up to the batch, and
 * what other instances own is learned to within the staleness bound (docs/scaling.md).
 */
export async function followBatch(
  follower: Follower,
  batch: GraphBatch,
  /** First offset of each input partition in the batch (the handoff point). */
  first: ReadonlyMap<number, number> | undefined,
  o: {
    readonly cfg: Config;
    readonly topic: string;
    readonly owns: (partition: number) => boolean;
    /** The batch's event time, before the follower is asked to be fresh for it. */
    readonly served: (at: number) => void;
  },
): Promise<void> {
  // The batch's event time is the median of its events': a backlog batch can span hours of
  // event time, and its events are learned one by one, so the median keeps the follower as
  // much ahead of the batch's first half as behind its second (docs/scaling.md).
  const times: number[] = [];
  for (const e of batch.events) if (e.topic === o.topic) times.push(e.event.ts);
  const at = median(times);
  o.served(at);
  // Not for a partition already given up (lost): the follower learns it again meanwhile.
  for (const [partition, offset] of first ?? [])
    if (!follower.isOwned(partition) && o.owns(partition))
      await follower.handoff(partition, offset, o.cfg.scale.handoffTimeoutMs);
  if (times.length > 0)
    await follower.waitFresh(at, o.cfg.scale.stalenessMs, o.cfg.scale.maxHoldMs);
}
