import { ownValue } from '../core/own.js';

/**
 * The ranking model as plain typed arrays: a wide (linear) part plus a one-hidden-layer MLP,
 * logit(x) = wide·x + bias + w2·relu(W1ᵀx + b1) + b2. Scoring is a few hundred multiply-adds
 * per candidate, with no tensor library in the hot path: TensorFlow.js only fits the weights
 * (models/ranking/train.ts) and they are copied out into these arrays.
 */

/** Per-candidate features, each scaled to about [0, 1] within one request. */
export const FEATURES = [
  /** co-visitation score / best co-visitation score among the candidates */
  'knn',
  /** title/id similarity to the user's recent items / best among the candidates */
  'content',
  /** short half-life popularity / the catalogue's best */
  'trending',
  /** long half-life popularity / the catalogue's best */
  'popular',
  /** MF score, min-max scaled over the deep stage's candidates (0 for users MF does not know) */
  'mf',
  /** the user viewed or carted the item recently: 1/(1 + position in their history) */
  'recency',
  /** the item's category is one the user browsed recently */
  'user_category',
  /** exp(−time since the user's last event / session gap): mid-session or returning */
  'session',
  /** log(1 + history length) / log(1 + history capacity) */
  'history',
  /** knn × session: a basket in progress is where co-purchase evidence is strongest */
  'knn_x_session',
  /** content × "nobody interacted with the item yet": the cold-item channel */
  'content_x_cold',
  /** popular / (1 + history length): popularity matters most for users we know little about */
  'popular_x_new_user',
] as const;

export type FeatureName = (typeof FEATURES)[number];
export const F = FEATURES.length;
export const FEATURE_INDEX: Readonly<Record<FeatureName, number>> = Object.fromEntries(
  FEATURES.map((f, i) => [f, i]),
) as Record<FeatureName, number>;

export interface RankerModel {
  /** e.g. `blend`, `online`, `nearline@2026-11-23T12:00:00.000Z` */
  version: string;
  readonly hidden: number;
  readonly wide: Float32Array;
  bias: number;
  /** F × hidden, row-major: w1[f·hidden + h] */
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  readonly w2: Float32Array;
  b2: number;
}

/**
 * The transparent blend served until a model is trained: the hybrid's weights on the matching
 * features and a deep part whose output layer is zero, so it adds nothing yet. The hidden
 * layer starts small and random so that gradients reach it once learning begins.
 */
export function blendModel(hidden = 8, seed = 11): RankerModel {
  const wide = new Float32Array(F);
  wide[FEATURE_INDEX.knn] = 1;
  wide[FEATURE_INDEX.content] = 0.6;
  wide[FEATURE_INDEX.trending] = 0.15;
  wide[FEATURE_INDEX.popular] = 0.1;
  wide[FEATURE_INDEX.mf] = 0.1;
  wide[FEATURE_INDEX.recency] = 0.3;
  wide[FEATURE_INDEX.user_category] = 0.1;
  const w1 = new Float32Array(F * hidden);
  let s = seed >>> 0 || 1;
  for (let x = 0; x < w1.length; x++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    w1[x] = (s / 4294967296 - 0.5) * 0.5;
  }
  return {
    version: 'blend',
    hidden,
    wide,
    bias: 0,
    w1,
    b1: new Float32Array(hidden).fill(0.01),
    w2: new Float32Array(hidden),
    b2: 0,
  };
}

export function cloneModel(m: RankerModel, version = m.version): RankerModel {
  return {
    version,
    hidden: m.hidden,
    wide: m.wide.slice(),
    bias: m.bias,
    w1: m.w1.slice(),
    b1: m.b1.slice(),
    w2: m.w2.slice(),
    b2: m.b2,
  };
}

/** Throws when the arrays do not fit together, so a bad swap fails before it serves. */
export function checkModel(m: RankerModel): void {
  const h = m.hidden;
  if (!(h >= 1)) throw new Error(`ranker model: hidden must be >= 1, got ${h}`);
  if (m.wide.length !== F || m.w1.length !== F * h || m.b1.length !== h || m.w2.length !== h)
    throw new Error(
      `ranker model: shapes wide ${m.wide.length}, w1 ${m.w1.length}, b1 ${m.b1.length}, w2 ${m.w2.length} do not match ${F} features × ${h} hidden`,
    );
  const all = [m.wide, m.w1, m.b1, m.w2, [m.bias, m.b2]];
  for (const a of all)
    for (const v of a) if (!Number.isFinite(v)) throw new Error('ranker model: non-finite weight');
}

/** wide·x over row xo of a row-major F-wide matrix. */
export function wideScore(m: RankerModel, x: Float32Array, xo: number): number {
  const w = m.wide;
  let s = m.bias;
  for (let f = 0; f < F; f++) s += w[f] * x[xo + f];
  return s;
}

/** The MLP part; `act` (length ≥ hidden) receives the hidden activations for backprop. */
export function deepScore(m: RankerModel, x: Float32Array, xo: number, act: Float32Array): number {
  const H = m.hidden;
  const w1 = m.w1;
  const b1 = m.b1;
  for (let h = 0; h < H; h++) act[h] = b1[h];
  for (let f = 0; f < F; f++) {
    const v = x[xo + f];
    if (v === 0) continue;
    const o = f * H;
    for (let h = 0; h < H; h++) act[h] += v * w1[o + h];
  }
  let s = m.b2;
  const w2 = m.w2;
  for (let h = 0; h < H; h++) {
    const a = act[h] > 0 ? act[h] : 0;
    act[h] = a;
    s += w2[h] * a;
  }
  return s;
}

/** Whether the MLP adds anything (its output layer is all zeros in the blend). */
export function hasDeep(m: RankerModel): boolean {
  for (let h = 0; h < m.hidden; h++) if (m.w2[h] !== 0) return true;
  return false;
}

/** The per-request scale of the input is fixed by FEATURES, so the full score is wide + deep. */
export function score(m: RankerModel, x: Float32Array, xo: number, act: Float32Array): number {
  return wideScore(m, x, xo) + deepScore(m, x, xo, act);
}

/** JSON form for logs and snapshots; numbers, not base64, so a human can read the weights. */
export function modelToJson(m: RankerModel): Record<string, unknown> {
  return {
    version: m.version,
    hidden: m.hidden,
    features: FEATURES,
    wide: Array.from(m.wide),
    bias: m.bias,
    w1: Array.from(m.w1),
    b1: Array.from(m.b1),
    w2: Array.from(m.w2),
    b2: m.b2,
  };
}

/** Inverse of modelToJson; throws on anything that does not fit. */
export function modelFromJson(v: unknown): RankerModel {
  const o = v as Record<string, unknown>;
  const arr = (k: string): Float32Array => {
    const a = o !== null && typeof o === 'object' ? ownValue(o, k) : undefined;
    if (!Array.isArray(a) || a.some((x) => typeof x !== 'number'))
      throw new Error(`ranker model JSON: ${k} is not a number list`);
    return Float32Array.from(a as number[]);
  };
  const m: RankerModel = {
    version: typeof o?.version === 'string' ? o.version : 'restored',
    hidden: Number(o?.hidden),
    wide: arr('wide'),
    bias: Number(o?.bias),
    w1: arr('w1'),
    b1: arr('b1'),
    w2: arr('w2'),
    b2: Number(o?.b2),
  };
  checkModel(m);
  return m;
}
