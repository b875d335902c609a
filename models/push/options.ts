const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Push settings. The same shape as the config's `push` section (config/schema.ts, which holds the
 * documented defaults), so `cfg.push` can be passed as is; tests override single fields.
 */
export interface PushOptions {
  readonly enabled: boolean;
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
  readonly quietHours: { readonly start: string; readonly end: string; readonly timeZone: string };
  readonly globalRatePerMinute: number;
  readonly maxItems: number;
  readonly deepLink: string;
  readonly ttlMs: number;
  readonly claimTtlSeconds: number;
}

export const DEFAULT_PUSH_OPTIONS: PushOptions = {
  enabled: true,
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
  quietHours: { start: '22:00', end: '08:00', timeZone: 'UTC' },
  globalRatePerMinute: 1_000,
  maxItems: 3,
  deepLink: 'app://item/{item_id}',
  ttlMs: DAY,
  claimTtlSeconds: 7 * 24 * 3600,
};

/** Deep overrides: `{ cooldownMs: { priceDrop: 0 } }` keeps the other cooldowns. */
export type PushOverrides = Partial<
  Omit<PushOptions, 'cooldownMs' | 'quietHours'> & {
    cooldownMs: Partial<PushOptions['cooldownMs']>;
    quietHours: Partial<PushOptions['quietHours']>;
  }
>;

export function resolvePushOptions(o: PushOverrides = {}): PushOptions {
  return {
    ...DEFAULT_PUSH_OPTIONS,
    ...o,
    cooldownMs: { ...DEFAULT_PUSH_OPTIONS.cooldownMs, ...o.cooldownMs },
    quietHours: { ...DEFAULT_PUSH_OPTIONS.quietHours, ...o.quietHours },
  };
}
