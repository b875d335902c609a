import { z } from 'zod';
import { DAY, HOUR, MINUTE } from './common.js';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');
const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/** Push decisioning (docs/push.md): triggers run on event time, so durations are event time. */
export const pushSchema = z
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
  .default({});
