import type { EventType } from '../models/event.js';
import type { FeatureStore } from '../features/feature-store.js';
import type { BurstBaseline } from './triggers.js';

const DAY_MS = 86_400_000;

/** The burst trigger's baseline from the feature store's decayed category affinity. */
export function featureStoreBaseline(store: FeatureStore): BurstBaseline {
  return {
    halfLifeMs: store.config.affinityHalfLifeMs,
    weight: (type: EventType) => store.config.eventWeights[type],
    affinity: (userId, category, asOf) =>
      store.userFeatures(userId, asOf)?.categoryAffinity.find((a) => a.category === category)
        ?.score ?? 0,
  };
}

/** Without a feature store (unit tests): no affinity, a week's half-life, removals count -1. */
export const NO_BASELINE: BurstBaseline = {
  halfLifeMs: 7 * DAY_MS,
  weight: (t) => (t === 'remove_from_cart' ? -1 : 1),
  affinity: () => 0,
};
