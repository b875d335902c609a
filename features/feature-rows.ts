import { EVENT_TYPES } from '../models/event.js';
import { TYPE_CODE } from '../models/core/weights.js';
import type { WindowBounds } from '../stream/windowing/types.js';
import type { Activity } from './activity.js';
import type {
  CategoryWindowFeatures,
  FeatureEntity,
  FeatureSet,
  ItemWindowFeatures,
} from './types.js';

/** The sink values of one windowed feature family (`user_5m`, `item_24h`, ...). */
export class WindowRows {
  private readonly family: string;
  /** Name lists per shape, built once: a set never builds a string. */
  private readonly userNames: readonly string[];
  private readonly itemNames: readonly (readonly string[])[];
  private readonly categoryNames: readonly string[];

  constructor(
    readonly entity: FeatureEntity,
    /** `5m`, `1h`, ...: carried by every set so readers can find the window's end. */
    readonly label: string,
    private readonly weights: Float64Array,
    /** Long item windows also report trending velocity from their tail count. */
    private readonly velocity?: (recent: number, total: number) => number,
  ) {
    this.family = `${entity}_${label}`;
    const n = featureNames(entity, label);
    this.userNames = [n.events, ...EVENT_TYPES.map((t) => n[t]), n.distinct] as string[];
    const base = [n.views, n.clicks, n.carts, n.purchases, n.units, n.distinct] as string[];
    const rates = [n.cartRate, n.purchaseRate] as string[];
    const v = velocity ? ['trending_velocity'] : [];
    // [no views, with views]: rates exist only with views
    this.itemNames = [
      [...base, ...v],
      [...base, ...rates, ...v],
    ];
    this.categoryNames = [
      n.events,
      n.views,
      n.carts,
      n.purchases,
      n.distinct,
      n.popularity,
    ] as string[];
  }

  /**
   * Every feature of the window `[start, end)` of `key`, zeros included: a reader keeping the
   * newest window per field must never be left with an older window's count.
   */
  push(key: string, start: number, end: number, a: Activity, ts: number, out: FeatureSet[]): void {
    let names: readonly string[];
    let values: number[];
    if (this.entity === 'user') {
      names = this.userNames;
      values = [a.total];
      for (const t of EVENT_TYPES) values.push(a.counts[t]);
      values.push(a.distinct);
    } else if (this.entity === 'item') {
      const w = itemWindow(a);
      values = [w.views, w.clicks, w.carts, w.purchases, w.units, w.distinctUsers];
      if (w.cartRate !== undefined) values.push(w.cartRate, w.purchaseRate as number);
      if (this.velocity) values.push(this.velocity(a.recent, a.total));
      names = this.itemNames[w.cartRate !== undefined ? 1 : 0] as readonly string[];
    } else {
      const c = categoryWindow(a, this.weights);
      names = this.categoryNames;
      values = [c.events, c.views, c.carts, c.purchases, c.distinctUsers, c.popularity];
    }
    out.push({
      entity: this.entity,
      key,
      family: this.family,
      window: this.label,
      windowStart: start,
      windowEnd: end,
      ts,
      names,
      values,
    });
  }
}

const SESSION_NAMES: readonly string[] = [
  'session_length_ms',
  'session_depth',
  'session_distinct_items',
];

/** A closed (or late-updated) session of one user: length, depth and distinct items. */
export function pushSessionSet(
  key: string,
  bounds: WindowBounds,
  a: Pick<Activity, 'total' | 'distinct' | 'firstTs' | 'lastTs'>,
  ts: number,
  final: boolean,
  replaces: readonly WindowBounds[] | undefined,
  out: FeatureSet[],
): void {
  out.push({
    entity: 'user',
    key,
    family: 'session',
    windowStart: bounds.start,
    windowEnd: bounds.end,
    ts,
    names: SESSION_NAMES,
    values: [a.lastTs - a.firstTs, a.total, a.distinct],
    final,
    ...(replaces !== undefined && { replaces }),
  });
}

function featureNames(entity: FeatureEntity, label: string): Record<string, string> {
  const n: Record<string, string> = {};
  if (entity === 'user') {
    n.events = `events_${label}`;
    for (const t of EVENT_TYPES) n[t] = `${t}_${label}`;
    n.distinct = `distinct_items_${label}`;
  } else if (entity === 'item') {
    // trusted-key: feature names are code
    for (const k of ['views', 'clicks', 'carts', 'purchases', 'units']) n[k] = `${k}_${label}`;
    n.distinct = `distinct_users_${label}`;
    n.cartRate = `cart_rate_${label}`;
    n.purchaseRate = `purchase_rate_${label}`;
  } else {
    // trusted-key: feature names are code
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
