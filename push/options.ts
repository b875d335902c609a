import type { Channel } from './types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Push settings. The same shape as the config's `push` section (config/schema.ts, which holds the
 * documented defaults), so `cfg.push` can be passed as is; tests override single fields.
 */
export interface PushOptions {
  readonly enabled: boolean;
  /**
   * `learned`: send time, channel, variant and volume are learned per user (docs/push.md);
   * `static`: the fixed rules (send at once outside quiet hours, the first consented channel,
   * variants uniformly at random), the baseline the learned policy is measured against.
   */
  readonly policy: 'learned' | 'static';
  readonly abandonedCartDelayMs: number;
  readonly interestTtlMs: number;
  readonly priceDropMinPct: number;
  readonly burstWindowMs: number;
  readonly burstMinEvents: number;
  readonly burstRatio: number;
  readonly recommendationMinScore: number;
  readonly frequencyCap: number;
  readonly frequencyWindowMs: number;
  readonly cooldownMs: {
    readonly abandonedCart: number;
    readonly priceDrop: number;
    readonly backInStock: number;
    readonly interestBurst: number;
    readonly newRecommendation: number;
  };
  /** Sent pushes per user and channel per `frequencyWindowMs`. */
  readonly channelCaps: Readonly<Record<Channel, number>>;
  readonly quietHours: { readonly start: string; readonly end: string; readonly timeZone: string };
  readonly globalRatePerMinute: number;
  readonly maxItems: number;
  readonly deepLink: string;
  readonly ttlMs: number;
  readonly claimTtlSeconds: number;
  /** How long a push may wait for the user's best hour (abandoned carts: their own bound). */
  readonly maxDelayMs: number;
  readonly abandonedCartMaxDelayMs: number;
  /** Users in the stable randomised control group get no push (keyed hash of the user id). */
  readonly holdout: { readonly fraction: number; readonly salt: string };
  /** A purchase this long after a push is attributed to it (`push_outcomes`). */
  readonly attributionWindowMs: number;
  /** A push is sent only when its predicted incremental conversion beats this, in pp. */
  readonly fatigueCostPp: number;
  /** A user's cap stops where their fatigued open rate would fall below this share of fresh. */
  readonly fatigueFloor: number;
  readonly bandit: {
    /** Share of decisions whose channel and variant are drawn uniformly (keeps IPS bounded). */
    readonly epsilon: number;
    /** A variant the user got recently scores this much lower, halving every half-life. */
    readonly noveltyPenalty: number;
    readonly noveltyHalfLifeMs: number;
  };
  /** Decay of the per-user hour-of-week activity histogram. */
  readonly hourHalfLifeMs: number;
  /** Template locale for users without a preference (`en` or `de`). */
  readonly defaultLocale: string;
  /** Users whose push state is kept (least recently seen dropped first). */
  readonly maxUsers: number;
  /** A user idle this long (event time) loses their push state. */
  readonly userTtlMs: number;
}

export const DEFAULT_PUSH_OPTIONS: PushOptions = {
  enabled: true,
  policy: 'learned',
  abandonedCartDelayMs: 30 * MINUTE,
  interestTtlMs: 7 * DAY,
  priceDropMinPct: 10,
  burstWindowMs: HOUR,
  burstMinEvents: 5,
  burstRatio: 3,
  recommendationMinScore: 1,
  frequencyCap: 3,
  frequencyWindowMs: DAY,
  cooldownMs: {
    abandonedCart: DAY,
    priceDrop: 12 * HOUR,
    backInStock: 12 * HOUR,
    interestBurst: DAY,
    newRecommendation: DAY,
  },
  channelCaps: { push: 3, email: 1, in_app: 3, sms: 1 },
  quietHours: { start: '22:00', end: '08:00', timeZone: 'UTC' },
  globalRatePerMinute: 1_000,
  maxItems: 3,
  deepLink: 'app://item/{item_id}',
  ttlMs: DAY,
  claimTtlSeconds: 7 * 24 * 3600,
  maxDelayMs: DAY,
  abandonedCartMaxDelayMs: 2 * HOUR,
  holdout: { fraction: 0.05, salt: 'recpipe-holdout-v1' },
  attributionWindowMs: DAY,
  fatigueCostPp: 0.1,
  fatigueFloor: 0.5,
  bandit: { epsilon: 0.05, noveltyPenalty: 0.1, noveltyHalfLifeMs: 3 * DAY },
  hourHalfLifeMs: 30 * DAY,
  defaultLocale: 'en',
  maxUsers: 250_000,
  userTtlMs: 90 * DAY,
};

type Nested = 'cooldownMs' | 'quietHours' | 'channelCaps' | 'holdout' | 'bandit';

/** Deep overrides: `{ cooldownMs: { priceDrop: 0 } }` keeps the other cooldowns. */
export type PushOverrides = Partial<
  Omit<PushOptions, Nested> & {
    cooldownMs: Partial<PushOptions['cooldownMs']>;
    quietHours: Partial<PushOptions['quietHours']>;
    channelCaps: Partial<PushOptions['channelCaps']>;
    holdout: Partial<PushOptions['holdout']>;
    bandit: Partial<PushOptions['bandit']>;
  }
>;

export function resolvePushOptions(o: PushOverrides = {}): PushOptions {
  const d = DEFAULT_PUSH_OPTIONS;
  return {
    ...d,
    ...o,
    cooldownMs: { ...d.cooldownMs, ...o.cooldownMs },
    quietHours: { ...d.quietHours, ...o.quietHours },
    channelCaps: { ...d.channelCaps, ...o.channelCaps },
    holdout: { ...d.holdout, ...o.holdout },
    bandit: { ...d.bandit, ...o.bandit },
  };
}
