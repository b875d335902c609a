import type { HybridWeights } from './hybrid-options.js';

/*
 * The hybrid's channels: each is one component's contribution to an item's score. Numbered so
 * weights and per-item parts live in reused Float64Arrays (scoring allocates nothing per item).
 */
export const CH_KNN = 0;
export const CH_CONTENT = 1;
export const CH_MF = 2;
export const CH_TREND = 3;
export const CH_POP = 4;
export const CH_RECENCY = 5;
export const CH_INTENT = 6;
export const CH_SEQUENCE = 7;
export const CHANNELS = CH_SEQUENCE + 1;
/** The order in which ties between channels' contributions are resolved for the reason. */
const REASON_ORDER = [CH_KNN, CH_CONTENT, CH_TREND, CH_POP, CH_INTENT, CH_SEQUENCE, CH_MF];

/** The blend's weight per channel. */
export function channelWeights(weights: Required<HybridWeights>): Float64Array {
  const w = new Float64Array(CHANNELS);
  w[CH_KNN] = weights.itemknn;
  w[CH_CONTENT] = weights.content;
  w[CH_MF] = weights.mf;
  w[CH_TREND] = weights.trending;
  w[CH_POP] = weights.popular;
  w[CH_RECENCY] = weights.recency;
  w[CH_INTENT] = weights.intent;
  w[CH_SEQUENCE] = weights.sequence;
  return w;
}

/**
 * The channel that contributed most to an item (`parts`, one per channel), first in
 * REASON_ORDER on ties; -1 with its part 0 when none contributed anything.
 */
export function strongestChannel(parts: Float64Array): { channel: number; part: number } {
  let part = 0;
  let channel = -1;
  for (const ch of REASON_ORDER) {
    const v = parts[ch] as number;
    if (v > part) {
      part = v;
      channel = ch;
    }
  }
  return { channel, part };
}
