import { z } from 'zod';
import { privacySchema } from './privacy.js';

const port = z.number().int().min(0).max(65535);
/** A TLS connection's CA file, and the client certificate and key for mutual TLS. */
const tlsFiles = z
  .object({
    caFile: z.string().default(''),
    certFile: z.string().default(''),
    keyFile: z.string().default(''),
  })
  .default({});
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');
const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

export const configSchema = z
  .object({
    /** Where `stack up` keeps data, logs and pid files of the local services. */
    stateDir: z.string().min(1).default('.state'),
    kafka: z
      .object({
        brokers: z.string().min(1).default('127.0.0.1:19092'),
        controllerPort: port.default(19093),
        clientId: z.string().default('recpipe'),
        /** Distinguishes instances of one group (transactional.id); unique per running process. */
        instanceId: z.string().min(1).default('0'),
        groupId: z.string().min(1).default('recpipe'),
        inputTopic: z.string().min(1).default('clickstream'),
        itemsTopic: z.string().min(1).default('items'),
        pushTopic: z.string().min(1).default('push-notifications'),
        /** Consent, time zone and locale per user (CONTRACT §5); the latest message per user wins. */
        preferencesTopic: z.string().min(1).default('preferences'),
        dlqTopic: z.string().min(1).default('recpipe-dlq'),
        partitions: z.number().int().min(1).default(3),
        /**
         * SASL authentication; `none` (the default) connects without it. Every field has a default
         * so RECPIPE_KAFKA_SASL_PASSWORD etc. can carry the secret instead of the config file.
         */
        sasl: z
          .object({
            mechanism: z.enum(['none', 'plain', 'scram-sha-256', 'scram-sha-512']).default('none'),
            username: z.string().default(''),
            password: z.string().default(''),
          })
          .default({}),
        /** TLS to the brokers; also turned on by any of the `tls` files below. */
        ssl: z.boolean().default(false),
        tls: z
          .object({
            /** PEM file of the CA that signed the brokers' certificates (default: system CAs). */
            caLocation: z.string().default(''),
            /** Client certificate and key, for brokers that require mutual TLS. */
            certLocation: z.string().default(''),
            keyLocation: z.string().default(''),
            keyPassword: z.string().default(''),
          })
          .default({}),
      })
      .default({}),
    redis: z
      .object({
        url: z.string().min(1).default('redis://127.0.0.1:16379'),
        prefix: z.string().default('recpipe:'),
        /** TTL of every key we write, seconds. */
        ttlSeconds: z
          .number()
          .int()
          .min(1)
          .default(7 * 24 * 3600),
        historyTtlSeconds: z
          .number()
          .int()
          .min(1)
          .default(90 * 24 * 3600),
        /**
         * ACL user and password; when set they replace the ones in `url`, so the secret can come
         * from RECPIPE_REDIS_PASSWORD instead of a URL that may end up in a shell history.
         */
        username: z.string().default(''),
        password: z.string().default(''),
        /** TLS (also implied by a `rediss://` url): CA file, optional client certificate and key. */
        tls: tlsFiles,
      })
      .default({}),
    clickhouse: z
      .object({
        url: z.string().min(1).default('http://127.0.0.1:18123'),
        nativePort: port.default(19000),
        database: z.string().min(1).default('recpipe'),
        username: z.string().default('default'),
        password: z.string().default(''),
        /** For an `https://` url: CA file, optional client certificate and key (mutual TLS). */
        tls: tlsFiles,
      })
      .default({}),
    pipeline: z
      .object({
        batchMaxMessages: z.number().int().min(1).default(500),
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
         * restarting them from empty (docs/operations.md).
         */
        featureChangelog: z.boolean().default(false),
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
         */
        analyticsFlushMs: z.number().int().min(0).default(1_000),
        analyticsFlushMessages: z.number().int().min(1).default(10_000),
        dedupeCapacity: z.number().int().min(1).default(1_000_000),
        topK: z.number().int().min(1).max(1000).default(20),
        model: z.string().default('default'),
        /** How often `run` saves the model snapshot to Redis (and always after a clean drain). */
        snapshotIntervalMs: z.number().int().min(1000).default(30_000),
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
      .default({}),
    monitoring: z
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
      .default({}),
    /** Many instances of one consumer group (docs/scaling.md). */
    scale: z
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
      .default({}),
    /** Push decisioning (docs/push.md): triggers run on event time, so durations are event time. */
    push: z
      .object({
        enabled: z.boolean().default(true),
        /** A cart add with no purchase or removal of that item this long after it fires. */
        abandonedCartDelayMs: z
          .number()
          .int()
          .min(0)
          .default(30 * MINUTE),
        /** Views, clicks and carts this recent make a user interested in an item's price and stock. */
        interestTtlMs: z
          .number()
          .int()
          .min(1)
          .default(7 * DAY),
        /** A catalog price at least this many percent below the last known price is a drop. */
        priceDropMinPct: z.number().min(0).max(100).default(10),
        /** Interest burst: the user's weighted events in one category within this window... */
        burstWindowMs: z.number().int().min(MINUTE).default(HOUR),
        /** ...reach at least this many events... */
        burstMinEvents: z.number().int().min(1).default(5),
        /** ...and this many times what their decayed category affinity predicts for the window. */
        burstRatio: z.number().min(1).default(3),
        /** A new top recommendation is pushed only at or above this score. */
        recommendationMinScore: z.number().default(1),
        /** Sent pushes per user per rolling `frequencyWindowMs`. */
        frequencyCap: z.number().int().min(0).default(3),
        frequencyWindowMs: z.number().int().min(1).default(DAY),
        /** Minimum gap between two sent pushes of one trigger to one user. */
        cooldownMs: z
          .object({
            abandonedCart: z.number().int().min(0).default(DAY),
            priceDrop: z
              .number()
              .int()
              .min(0)
              .default(12 * HOUR),
            backInStock: z
              .number()
              .int()
              .min(0)
              .default(12 * HOUR),
            interestBurst: z.number().int().min(0).default(DAY),
            newRecommendation: z.number().int().min(0).default(DAY),
          })
          .default({}),
        /** Local wall-clock [start, end) of the user's time zone; a start after the end spans midnight. */
        quietHours: z
          .object({
            start: hhmm.default('22:00'),
            end: hhmm.default('08:00'),
            /** For users whose events carry no `props.tz`. */
            timeZone: z
              .string()
              .refine(isTimeZone, 'must be an IANA time zone such as UTC or Europe/Paris')
              .default('UTC'),
          })
          .default({}),
        /** Sent pushes over all users per event-time minute. */
        globalRatePerMinute: z.number().int().min(1).default(1_000),
        /** Items listed in one notification. */
        maxItems: z.number().int().min(1).max(20).default(3),
        /** `{item_id}` is replaced by the first item's id (URL-encoded). */
        deepLink: z.string().min(1).default('app://item/{item_id}'),
        /** expires_at = decision time + this. */
        ttlMs: z.number().int().min(1).default(DAY),
        /** How long Redis keeps idempotency claims, so a replay of an old batch re-sends nothing new. */
        claimTtlSeconds: z
          .number()
          .int()
          .min(1)
          .default(7 * 24 * 3600),
        /** `learned` (send time, channel, variant, volume learned per user) or the fixed `static` rules. */
        policy: z.enum(['learned', 'static']).default('learned'),
        /** Sent pushes per user and channel per `frequencyWindowMs`. */
        channelCaps: z
          .object({
            push: z.number().int().min(0).default(3),
            email: z.number().int().min(0).default(1),
            in_app: z.number().int().min(0).default(3),
            sms: z.number().int().min(0).default(1),
          })
          .default({}),
        /** How long a push may wait for the user's best hour... */
        maxDelayMs: z.number().int().min(0).default(DAY),
        /** ...and an abandoned cart push. */
        abandonedCartMaxDelayMs: z
          .number()
          .int()
          .min(0)
          .default(2 * HOUR),
        /** The stable randomised control group (keyed hash of the user id): no pushes at all. */
        holdout: z
          .object({
            fraction: z.number().min(0).max(1).default(0.05),
            salt: z.string().min(1).default('recpipe-holdout-v1'),
          })
          .default({}),
        /** A purchase this long after a push is attributed to it (ClickHouse `push_outcomes`). */
        attributionWindowMs: z.number().int().min(MINUTE).default(DAY),
        /** Send only when the predicted incremental conversion beats this, in percentage points. */
        fatigueCostPp: z.number().min(0).max(100).default(0.1),
        /** A user's learned cap stops where their fatigued open rate falls below this share of fresh. */
        fatigueFloor: z.number().gt(0).lt(1).default(0.5),
        bandit: z
          .object({
            /** Share of channel and variant choices drawn uniformly (bounds importance weights). */
            epsilon: z.number().min(0).max(1).default(0.05),
            /** The variant a user got last scores this much lower, halving every half-life. */
            noveltyPenalty: z.number().min(0).max(1).default(0.1),
            noveltyHalfLifeMs: z
              .number()
              .int()
              .min(1)
              .default(3 * DAY),
          })
          .default({}),
        /** Half-life of each user's hour-of-week activity histogram. */
        hourHalfLifeMs: z
          .number()
          .int()
          .min(HOUR)
          .default(30 * DAY),
        /** Template locale for users without a `locale` preference. */
        defaultLocale: z.enum(['en', 'de']).default('en'),
        /** Users whose push state is kept in memory (least recently seen evicted first). */
        maxUsers: z.number().int().min(1).default(250_000),
        /** A user idle this long (event time) loses their push state. */
        userTtlMs: z
          .number()
          .int()
          .min(DAY)
          .default(90 * DAY),
      })
      .default({}),
    /** Serving policy and the learned ranker (docs/ranking.md). */
    ranking: z
      .object({
        /** The model is asked for pipeline.topK × this, so filters leave enough to serve. */
        overfetch: z.number().min(1).max(10).default(2),
        /** Drop items whose latest catalog event says `in_stock: false`. */
        excludeOutOfStock: z.boolean().default(true),
        /** Score multipliers (1: none; 0: never served), per category and per item id. */
        boosts: z
          .object({
            categories: z.record(z.number().min(0)).default({}),
            items: z.record(z.number().min(0)).default({}),
          })
          .default({}),
        /** At most this many items of one category in a served list (0: no cap). */
        maxPerCategory: z.number().int().min(0).default(0),
        /** Maximal marginal relevance: 1 = relevance only (off); lower trades it for diversity. */
        mmrLambda: z.number().min(0).max(1).default(1),
        /** Nearline training of the ranker from ClickHouse (model `ranked` in `run`). */
        trainer: z
          .object({
            enabled: z.boolean().default(true),
            /** Time between fits; the first one runs this long after start. */
            intervalMs: z
              .number()
              .int()
              .min(1_000)
              .default(10 * MINUTE),
            /** Served lists of this period (by serving time) are the training data. */
            lookbackMs: z.number().int().min(MINUTE).default(DAY),
            /** An item acted on within this long after it was served is a positive. */
            horizonMs: z.number().int().min(1_000).default(HOUR),
            /** Fewer labelled rows (or no positive) than this: keep the current model. */
            minExamples: z.number().int().min(1).default(500),
            /** At most this many served lists per fit (the newest). */
            maxLists: z.number().int().min(1).default(20_000),
            epochs: z.number().int().min(1).max(100).default(8),
          })
          .default({}),
      })
      .default({}),
    /** The GRU session model (models/sequence, docs/BENCHMARKS.md "Sequence model"): opt-in. */
    sequence: z
      .object({
        /** Its weight in the `default` blend; 0 (default) leaves it out entirely. */
        weight: z.number().min(0).default(0),
        /** `replay` refits in-process every this many events on the last `replayTrainWindow`. */
        replayTrainEvery: z.number().int().min(100).default(5_000),
        replayTrainWindow: z.number().int().min(1_000).default(20_000),
        /** Nearline fits of `run` from the ClickHouse `events` table. */
        trainer: z
          .object({
            enabled: z.boolean().default(true),
            /** Time between fits; the first one runs this long after start. */
            intervalMs: z
              .number()
              .int()
              .min(1_000)
              .default(10 * MINUTE),
            /** Events of this period (before the newest event) are the training data. */
            lookbackMs: z
              .number()
              .int()
              .min(MINUTE)
              .default(7 * DAY),
            /** At most this many events per fit (the newest). */
            maxEvents: z.number().int().min(100).default(200_000),
            /** Fewer sessions (of two items or more) than this: keep the current model. */
            minSessions: z.number().int().min(1).default(200),
            epochs: z.number().int().min(1).max(50).default(2),
          })
          .default({}),
      })
      .default({}),
    /**
     * Caps of per-id state (docs/operations.md, "Bounds"): a producer inventing ids can cost at
     * most this much memory. Users beyond `users` are forgotten least recently seen first (their
     * purchases reload from Redis when they return; the model treats them as new).
     */
    limits: z
      .object({
        /** Users with in-memory state (model profile, purchase history, online evaluation). */
        users: z.number().int().min(1).default(1_000_000),
        /** Items the model learns and the catalog state remembers; beyond it new items are not learned. */
        items: z.number().int().min(1).default(1_000_000),
        /** Purchases kept in memory per user, newest first (Redis `hist:bought` keeps them all). */
        purchasesPerUser: z.number().int().min(1).default(1_000),
        /** Distinct categories and title words the models index; beyond it new ones are ignored. */
        tokens: z.number().int().min(1).default(1_000_000),
      })
      .default({}),
    privacy: privacySchema,
    http: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: port.default(9464),
        /** Per dependency probe of /healthz; a store slower than this counts as down. */
        healthTimeoutMs: z.number().int().min(100).default(2_000),
        /** /healthz answers from a probe at most this old, so polling it cannot flood the stores. */
        healthCacheMs: z.number().int().min(0).default(2_000),
      })
      .default({}),
    logLevel: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      .default('info'),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
