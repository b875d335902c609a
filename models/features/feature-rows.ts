import { EVENT_TYPES } from '../event.js';
import { TYPE_CODE } from '../core/weights.js';
import type { WindowBounds } from '../windowing/types.js';
import type { Activity } from './activity.js';
import type {
  CategoryWindowFeatures,
  FeatureEntity,
  FeatureRow,
  ItemWindowFeatures,
} from './types.js';

/** The sink rows of one windowed feature family (`user_5m`, `item_24h`, ...). */
export class WindowRows {
  /** Feature names precomputed, so emitting a row never builds a string. */
  private readonly n: Readonly<Record<string, string>>;

  constructor(
    readonly entity: FeatureEntity,
    /** `5m`, `1h`, ...: carried by every row so readers can find the window's end. */
    readonly label: string,
    private readonly weights: Float64Array,
    /** Long item windows also report trending velocity from their tail count. */
    private readonly velocity?: (recent: number, total: number) => number,
  ) {
    this.n = featureNames(entity, label);
  }

  /**
   * Every feature of the window `[start, end)` of `key`, zeros included: a reader keeping the
   * newest window per field must never be left with an older window's count.
   */
  push(key: string, start: number, end: number, a: Activity, ts: number, out: FeatureRow[]): void {
    const n = this.n;
    const row = (feature: string, value: number): void => {
      out.push({
        entity: this.entity,
        key,
        feature,
        windowStart: start,
        windowEnd: end,
        value,
        ts,
        window: this.label,
      });
    };
    if (this.entity === 'user') {
      row(n.events as string, a.total);
      for (const t of EVENT_TYPES) row(n[t] as string, a.counts[t]);
      row(n.distinct as string, a.distinct);
    } else if (this.entity === 'item') {
      const w = itemWindow(a);
      row(n.views as string, w.views);
      row(n.clicks as string, w.clicks);
      row(n.carts as string, w.carts);
      row(n.purchases as string, w.purchases);
      row(n.units as string, w.units);
      row(n.distinct as string, w.distinctUsers);
      if (w.cartRate !== undefined) row(n.cartRate as string, w.cartRate);
      if (w.purchaseRate !== undefined) row(n.purchaseRate as string, w.purchaseRate);
      if (this.velocity) row('trending_velocity', this.velocity(a.recent, a.total));
    } else {
      const c = categoryWindow(a, this.weights);
      row(n.events as string, c.events);
      row(n.views as string, c.views);
      row(n.carts as string, c.carts);
      row(n.purchases as string, c.purchases);
      row(n.distinct as string, c.distinctUsers);
      row(n.popularity as string, c.popularity);
    }
  }
}

/** A closed (or late-updated) session of one user: length, depth and distinct items. */
export function pushSessionRows(
  key: string,
  bounds: WindowBounds,
  a: Activity,
  ts: number,
  final: boolean,
  replaces: readonly WindowBounds[] | undefined,
  out: FeatureRow[],
): void {
  const base = {
    entity: 'user' as const,
    key,
    windowStart: bounds.start,
    windowEnd: bounds.end,
    ts,
    final,
    ...(replaces !== undefined && { replaces }),
  };
  out.push(
    { ...base, feature: 'session_length_ms', value: a.lastTs - a.firstTs },
    { ...base, feature: 'session_depth', value: a.total },
    { ...base, feature: 'session_distinct_items', value: a.distinct },
  );
}

function featureNames(entity: FeatureEntity, label: string): Record<string, string> {
  const n: Record<string, string> = {};
  if (entity === 'user') {
    n.events = `events_${label}`;
    for (const t of EVENT_TYPES) n[t] = `${t}_${label}`;
    n.distinct = `distinct_items_${label}`;
  } else if (entity === 'item') {
    for (const k of ['views', 'clicks', 'carts', 'purchases', 'units']) n[k] = `${k}_${label}`;
    n.distinct = `distinct_users_${label}`;
    n.cartRate = `cart_rate_${label}`;
    n.purchaseRate = `purchase_rate_${label}`;
  } else {
    for (const k of ['events', 'views', 'carts', 'purchases', 'popularity']) n[k] = `${k}_${label}`;
    n.distinct = `distinct_users_${label}`;
  }
  return n;
}

export function itemWindow(a: Activity): ItemWindowFeatures {
  const c = a.counts;
  const views = c.view;
  return {
    views,
    clicks: c.click,
    carts: c.add_to_cart,
    purchases: c.purchase,
    units: a.units,
    events: a.total,
    distinctUsers: a.distinct,
    ...(views > 0 && { cartRate: c.add_to_cart / views, purchaseRate: c.purchase / views }),
  };
}

/** `weights`: event weight per type code, for the category's popularity. */
export function categoryWindow(a: Activity, weights: Float64Array): CategoryWindowFeatures {
  let popularity = 0;
  for (const t of EVENT_TYPES) popularity += (weights[TYPE_CODE[t]] as number) * a.counts[t];
  return {
    events: a.total,
    views: a.counts.view,
    carts: a.counts.add_to_cart,
    purchases: a.counts.purchase,
    distinctUsers: a.distinct,
    popularity,
  };
}
