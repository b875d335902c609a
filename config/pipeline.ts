import { z } from 'zod';
import { MINUTE } from './common.js';

// Config `pipeline`, `monitoring`, `scale`: how the streaming job runs.

/** Config `pipeline`: batching, backpressure, changelogs. */
export const pipelineSchema = z
  .object({
    /**
     * Messages per batch at most. A batch is what is already fetched (see batchMaxMs), so this
     * only bites on a backlog, where larger batches coalesce more of a user's refreshes and
     * spread each batch's fixed costs: a 200,000-event drain ran 2,176 → 2,791 events/s and
     * 93.5 → 74.6 CPU s going from 500 to 2,000 (BENCHMARKS.md, live path).
     */
    batchMaxMessages: z.number().int().min(1).default(2000),
    /**
     * After this long caught up and quiet, event time follows the wall clock (less the
     * features' allowed lateness), so carts, deferrals and windows fire on a quiet stream.
     * 0: only events move event time (replay always works that way).
     */
    idleAdvanceMs: z.number().int().min(0).default(5_000),
    /**
     * Push state (pending carts, deferrals, burst windows, policy counters) is written to a
     * compacted changelog topic with the committed offsets and restored when a partition is
     * assigned, so a restart or rebalance loses none of it (docs/operations.md).
     */
    stateChangelog: z.boolean().default(true),
    /**
     * The users' feature windows go to a compacted changelog topic the same way
     * (`{group}-feature-state-changelog`): a restart or rebalance continues them instead of
     * restarting them from empty (docs/operations.md). Costs about 5 % more CPU on a drain.
     */
    featureChangelog: z.boolean().default(true),
    /**
     * How long a poll waits for a batch's first message; the batch is then what is already
     * fetched, up to batchMaxMessages (it never waits to fill up: that is latency).
     */
    batchMaxMs: z.number().int().min(1).default(50),
    /**
     * Batches and messages in flight between source and commit: the backpressure bound. Batches
     * are served at once but committed with their analytics write, so the bound must cover
     * about `analyticsFlushMs` of input.
     */
    maxInFlightBatches: z.number().int().min(1).default(64),
    maxInFlightMessages: z.number().int().min(1).default(20_000),
    /**
     * The analytics lane (ClickHouse, then the Kafka commit) writes the batches served so far
     * once the oldest has waited this long or this many messages wait, whichever comes first.
     * Two seconds, not one: a key touched in two groups is written twice (feature windows are
     * most of the rows), and on a backlog one group per 2 s cost the machine 13% less CPU than
     * one per second (docs/BENCHMARKS.md). Served lists never wait for it.
     */
    analyticsFlushMs: z.number().int().min(0).default(2_000),
    analyticsFlushMessages: z.number().int().min(1).default(10_000),
    dedupeCapacity: z.number().int().min(1).default(1_000_000),
    topK: z.number().int().min(1).max(1000).default(20),
    model: z.string().default('default'),
    /**
     * `run` saves the model snapshot to Redis once `snapshotEveryEvents` messages were committed
     * since the last one, but never sooner than `snapshotIntervalMs` after it; once
     * `snapshotMaxIntervalMs` has passed, any committed message is enough (and always after a
     * clean drain). Counting events bounds what a restart replays (the input since the snapshot)
     * instead of the wall clock: each of N instances commits 1/N of the group's events, and
     * every snapshot holds the whole item side (25-35 MB after 600,000 shop events, 0.3-0.8 s of
     * CPU each), so a fixed 30 s made N instances pay N times the single instance's snapshots.
     */
    snapshotIntervalMs: z.number().int().min(1000).default(30_000),
    snapshotEveryEvents: z.number().int().min(1).default(60_000),
    snapshotMaxIntervalMs: z.number().int().min(1000).default(600_000),
    /**
     * Synthetic events `run` passes through its graph on throwaway state before it joins the
     * group, so V8 compiles the hot code then and not while serving the first real batches
     * (pipeline/runtime/warm-up.ts). 0 turns it off.
     */
    warmUpEvents: z.number().int().min(0).max(1_000_000).default(0),
    /** After SIGTERM, how long sinks may keep retrying before the job gives up uncommitted work. */
    drainTimeoutMs: z.number().int().min(0).default(30_000),
    /**
     * Events whose ts is further than this ahead of the wall clock are dead letters
     * (`ts_in_future`, CONTRACT §5), so no single event can drag a watermark into the future.
     */
    maxFutureSkewMs: z
      .number()
      .int()
      .min(0)
      .default(10 * MINUTE),
  })
  .default({});

/** Config `monitoring`: lag and online evaluation. */
export const monitoringSchema = z
  .object({
    /** How often consumer lag (high watermark − committed offset) is refreshed. */
    lagIntervalMs: z.number().int().min(100).default(5_000),
    /** Online test-then-train evaluation of the live model (costs one top-K per test case). */
    onlineEval: z.boolean().default(true),
    /** Its K and the sliding window of evaluated events the gauges cover. */
    evalK: z.number().int().min(1).max(1000).default(10),
    evalWindow: z.number().int().min(1).default(1_000),
    /** How often the windowed model metrics are written to ClickHouse `model_metrics`. */
    modelMetricsIntervalMs: z.number().int().min(1_000).default(60_000),
  })
  .default({});

/** Many instances of one consumer group (docs/scaling.md). */
export const scaleSchema = z
  .object({
    /**
     * Also learn from the partitions other instances own (a second, non-committing consumer),
     * so shared item state converges and a partition that moves here is already warm.
     */
    follow: z.boolean().default(true),
    /**
     * How item-side model state stays whole across the group: 'follower' learns every
     * partition on every instance; 'replica' learns only owned partitions and exchanges the
     * item changes through the `{group}-item-deltas` topic (docs/scaling.md).
     */
    itemState: z.enum(['follower', 'replica']).default('follower'),
    /** A batch is served only once what the follower has not learned yet is at most this old. */
    stalenessMs: z.number().int().min(0).default(1_000),
    /** ...but it waits no longer than this for it (then it serves and counts a timeout). */
    maxHoldMs: z.number().int().min(0).default(10_000),
    /** How long a partition that moved here waits for the follower to reach its first offset. */
    handoffTimeoutMs: z.number().int().min(0).default(60_000),
    /** How long a revoked partition's in-flight batches may take to commit before it is let go. */
    revokeTimeoutMs: z.number().int().min(0).default(15_000),
  })
  .default({});
