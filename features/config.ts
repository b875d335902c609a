import { DEFAULT_EVENT_WEIGHTS, type EventWeights } from '../models/core/weights.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** A hopping window; `label` names the features computed over it (`views_1h`). */
export interface WindowDef {
  readonly label: string;
  readonly sizeMs: number;
  readonly slideMs: number;
}

export interface FeatureConfig {
  readonly userWindows: readonly WindowDef[];
  readonly itemWindows: readonly WindowDef[];
  readonly categoryWindows: readonly WindowDef[];
  /** Inactivity that ends a user's session. */
  readonly sessionGapMs: number;
  /**
   * Trending velocity = (events in the long window's last `short` size + prior) /
   * (long window events × short size / long size + prior), on each long item window: the
   * long window counts its own tail, so no second window has to line up with it.
   */
  readonly trending: { readonly short: string; readonly long: string; readonly prior: number };
  readonly outOfOrdernessMs: number;
  readonly allowedLatenessMs: number;
  readonly affinityHalfLifeMs: number;
  /** Per user, the categories with the lowest decayed affinity are dropped beyond this many. */
  readonly maxCategoriesPerUser: number;
  /** Ascending price edges; band i holds prices in [edges[i-1], edges[i]). */
  readonly priceBandEdges: readonly number[];
  /** Per-entity state (recency, affinity, price) of entities idle this long is dropped. */
  readonly stateTtlMs: number;
  /**
   * At most this many users, items and categories hold feature state (windows, sessions,
   * recency, affinity, price); beyond a cap the least recently touched one is forgotten
   * (CLOCK). A forgotten key starts again from nothing when it returns.
   */
  readonly maxUsers: number;
  readonly maxItems: number;
  readonly maxCategories: number;
  readonly distinctPrecision: number;
  readonly distinctExactLimit: number;
  readonly eventWeights: EventWeights;
  /**
   * Build feature rows for sinks (default true). Replay has no feature sink and turns this off:
   * every window and aggregate is still maintained and readable, only the rows are not built.
   */
  readonly emitRows: boolean;
}

/**
 * Hopping rather than tumbling for every count: a reader asking "how many in the last hour"
 * then always gets a window covering between (size − slide) and size of history ending now,
 * and sinks get a fresh value every slide; a tumbling window would cover anything from 0 to
 * its whole size. Slides are chosen so the biggest family costs 24 updates per event.
 */
export const DEFAULT_FEATURE_CONFIG: FeatureConfig = {
  userWindows: [
    { label: '5m', sizeMs: 5 * MIN, slideMs: MIN },
    { label: '1h', sizeMs: HOUR, slideMs: 10 * MIN },
    { label: '24h', sizeMs: DAY, slideMs: HOUR },
  ],
  itemWindows: [
    { label: '1h', sizeMs: HOUR, slideMs: 10 * MIN },
    { label: '24h', sizeMs: DAY, slideMs: HOUR },
  ],
  categoryWindows: [
    { label: '1h', sizeMs: HOUR, slideMs: 10 * MIN },
    { label: '24h', sizeMs: DAY, slideMs: HOUR },
  ],
  sessionGapMs: 30 * MIN,
  emitRows: true,
  trending: { short: '1h', long: '24h', prior: 1 },
  // Events of one user share a partition, so disorder comes from producers and partition skew:
  // seconds, not minutes. A minute of lateness covers a lagging partition without holding
  // windows (memory) much longer.
  outOfOrdernessMs: 10_000,
  allowedLatenessMs: 60_000,
  affinityHalfLifeMs: 7 * DAY,
  maxCategoriesPerUser: 16,
  priceBandEdges: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
  stateTtlMs: 30 * DAY,
  // The defaults of config `limits` (users, items, tokens); run and replay pass those.
  maxUsers: 1_000_000,
  maxItems: 1_000_000,
  maxCategories: 1_000_000,
  distinctPrecision: 10,
  distinctExactLimit: 64,
  eventWeights: DEFAULT_EVENT_WEIGHTS,
};

export function resolveFeatureConfig(overrides: Partial<FeatureConfig> = {}): FeatureConfig {
  const c: FeatureConfig = { ...DEFAULT_FEATURE_CONFIG, ...overrides };
  for (const list of [c.userWindows, c.itemWindows, c.categoryWindows]) {
    const labels = new Set(list.map((w) => w.label));
    if (labels.size !== list.length)
      throw new RangeError('window labels must be unique within a family');
  }
  const short = c.itemWindows.find((w) => w.label === c.trending.short);
  const long = c.itemWindows.find((w) => w.label === c.trending.long);
  if (!short || !long)
    throw new RangeError('trending.short and trending.long must name item windows');
  if (long.sizeMs <= short.sizeMs || short.sizeMs % long.slideMs !== 0) {
    throw new RangeError(
      'the long trending window must be longer than the short one, and slide by a divisor of its size',
    );
  }
  for (const w of [...c.userWindows, ...c.itemWindows, ...c.categoryWindows]) {
    if (w.sizeMs % w.slideMs !== 0)
      throw new RangeError(`window ${w.label}: size must be a multiple of slide`);
  }
  const edges = c.priceBandEdges;
  for (let i = 1; i < edges.length; i++) {
    if (!(edges[i] > edges[i - 1]))
      throw new RangeError('priceBandEdges must be strictly ascending');
  }
  return c;
}

/** `<1`, `1-2`, ..., `>=1000` for the default edges. */
export function priceBandLabel(band: number, edges: readonly number[]): string {
  if (edges.length === 0) return 'any';
  if (band === 0) return `<${edges[0]}`;
  if (band >= edges.length) return `>=${edges[edges.length - 1]}`;
  return `${edges[band - 1]}-${edges[band]}`;
}

export function priceBandOf(price: number, edges: readonly number[]): number {
  let b = 0;
  while (b < edges.length && price >= edges[b]) b++;
  return b;
}

/** The feature store's key caps from config `limits` (users, items; categories as tokens). */
export function featureLimits(limits: {
  readonly users: number;
  readonly items: number;
  readonly tokens: number;
}): Pick<FeatureConfig, 'maxUsers' | 'maxItems' | 'maxCategories'> {
  return { maxUsers: limits.users, maxItems: limits.items, maxCategories: limits.tokens };
}
