import type { ClickEvent, EventType } from '../models/event.js';
import type { WindowBounds, WindowEngineStats } from '../stream/windowing/types.js';

export type FeatureEntity = 'user' | 'item' | 'category';

/**
 * One feature value for the sinks (Redis `feat:{entity}:{key}` hash field `feature`, ClickHouse
 * `features` row). Structurally the `FeatureRow` of sinks/types.ts plus optional extras.
 * Windowed features carry their window `[windowStart, windowEnd)`; features kept over the whole
 * history (recency, decayed affinity, price band) have windowStart = windowEnd = 0, so each
 * (entity, key, feature) is one row that newer `ts` values replace.
 */
export interface FeatureRow {
  readonly entity: FeatureEntity;
  readonly key: string;
  readonly feature: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly value: number;
  /** Event time the value is computed as of: the greatest event time seen (monotonic). */
  readonly ts: number;
  /** The window will not be updated again (false while late events may still change it). */
  readonly final?: boolean;
  /** Session rows: earlier session bounds this one replaces (a late event merged sessions). */
  readonly replaces?: readonly WindowBounds[];
  /**
   * Hopping-window rows: the window label (`5m`, `1h`, `24h`). Redis keeps the newest window's
   * end per label (`window_end_{label}`), so a reader can tell a value the key's later silence
   * has made stale: rows are written when a key has events, never when its windows slide.
   */
  readonly window?: string;
}

/**
 * The values of one feature family for one key and window, as the store emits them for the
 * sinks: one object per window instead of one per value (a batch carries tens of values per
 * event). `names[i]` has the value `values[i]`; the rows of `featureRows` are the same data.
 */
export interface FeatureSet {
  readonly entity: FeatureEntity;
  readonly key: string;
  /** `user_5m`, `item_24h`, `session`, or `user_state` (the unwindowed values, window 0, 0). */
  readonly family: string;
  /** Hopping families: the window label (FeatureRow.window). */
  readonly window?: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly ts: number;
  readonly names: readonly string[];
  readonly values: readonly number[];
  readonly final?: boolean;
  readonly replaces?: readonly WindowBounds[];
}

/** The per-value rows of feature sets (ClickHouse `features` rows, Redis hash fields). */
export function featureRows(sets: readonly FeatureSet[]): FeatureRow[] {
  const rows: FeatureRow[] = [];
  for (const s of sets) {
    for (let i = 0; i < s.names.length; i++) {
      rows.push({
        entity: s.entity,
        key: s.key,
        feature: s.names[i] as string,
        windowStart: s.windowStart,
        windowEnd: s.windowEnd,
        value: s.values[i] as number,
        ts: s.ts,
        ...(s.final !== undefined && { final: s.final }),
        ...(s.replaces !== undefined && { replaces: s.replaces }),
        ...(s.window !== undefined && { window: s.window }),
      });
    }
  }
  return rows;
}

/** An event some feature family could no longer count: its windows had all closed. */
export interface LateFeatureEvent {
  /** `user_5m`, `session`, `item_24h`, ... */
  readonly family: string;
  readonly event: ClickEvent;
  readonly watermark: number;
}

/** What the store produces for one input batch. */
export interface FeatureBatch {
  readonly sets: readonly FeatureSet[];
  readonly late: readonly LateFeatureEvent[];
  readonly watermark: number;
}

export type TypeCounts = Readonly<Record<EventType, number>>;

export interface UserWindowFeatures {
  readonly counts: TypeCounts;
  readonly total: number;
  readonly distinctItems: number;
  /** Bounds of the window read; zero-width when the user had no event in it. */
  readonly start: number;
  readonly end: number;
}

export interface SessionFeatures {
  readonly start: number;
  readonly lastTs: number;
  readonly lengthMs: number;
  /** Events in the session. */
  readonly depth: number;
  readonly distinctItems: number;
  /** The session would still absorb an event at `asOf`. */
  readonly active: boolean;
}

export interface UserFeatures {
  readonly userId: string;
  readonly asOf: number;
  /** Keyed by window label (`5m`, `1h`, `24h`). */
  readonly windows: Readonly<Record<string, UserWindowFeatures>>;
  readonly session?: SessionFeatures;
  readonly lastEventTs?: number;
  readonly lastPurchaseTs?: number;
  readonly recencyMs?: number;
  /** Decayed, best first, positive scores only. */
  readonly categoryAffinity: readonly { readonly category: string; readonly score: number }[];
  readonly priceBand?: {
    readonly band: number;
    readonly label: string;
    readonly meanPrice: number;
  };
}

export interface ItemWindowFeatures {
  readonly views: number;
  readonly clicks: number;
  readonly carts: number;
  readonly purchases: number;
  readonly units: number;
  readonly events: number;
  readonly distinctUsers: number;
  /** carts / views, purchases / views; undefined without views. */
  readonly cartRate?: number;
  readonly purchaseRate?: number;
}

export interface ItemFeatures {
  readonly itemId: string;
  readonly asOf: number;
  readonly category?: string;
  readonly price?: number;
  readonly lastEventTs?: number;
  readonly windows: Readonly<Record<string, ItemWindowFeatures>>;
  /** > 1: more activity in the short window than the long window's rate predicts. */
  readonly trendingVelocity: number;
}

export interface CategoryWindowFeatures {
  readonly events: number;
  readonly views: number;
  readonly carts: number;
  readonly purchases: number;
  readonly distinctUsers: number;
  /** Sum of event weights (the project's DEFAULT_EVENT_WEIGHTS). */
  readonly popularity: number;
}

export interface CategoryFeatures {
  readonly category: string;
  readonly asOf: number;
  readonly windows: Readonly<Record<string, CategoryWindowFeatures>>;
}

export interface FeatureStoreStats {
  readonly watermark: number;
  readonly maxEventTs: number;
  readonly users: number;
  readonly items: number;
  readonly categories: number;
  /** Keys forgotten to stay within maxUsers / maxItems / maxCategories (not by the TTL). */
  readonly evicted: number;
  readonly families: Readonly<Record<string, WindowEngineStats>>;
  /** Sum over families. */
  readonly openWindows: number;
  readonly lateEvents: number;
}
