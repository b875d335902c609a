import { EVENT_TYPES, type ClickEvent, type EventType } from '../models/event.js';
import { TYPE_CODE } from '../models/core/weights.js';
import { DistinctCounter } from '../stream/windowing/distinct-counter.js';
import type { Aggregator } from '../stream/windowing/types.js';

/** Incremental state of one window: O(1) per event, merged (not recomputed) when sessions join. */
export interface ActivityAcc {
  /** Start of the window or pane this aggregate was created for. */
  readonly start: number;
  readonly counts: number[];
  units: number;
  revenue: number;
  firstTs: number;
  lastTs: number;
  /** Events at or after `recentFrom`: the window's trailing part, for trending velocity. */
  recent: number;
  readonly recentFrom: number;
  readonly distinct: DistinctCounter;
}

export interface Activity {
  readonly counts: Readonly<Record<EventType, number>>;
  readonly total: number;
  /** Distinct items (user, session windows) or distinct users (item, category windows). */
  readonly distinct: number;
  readonly distinctExact: boolean;
  /** Purchased units (quantity, default 1) and their value (price × units when priced). */
  readonly units: number;
  readonly revenue: number;
  readonly firstTs: number;
  readonly lastTs: number;
  /** Events in the window's last `recentMs` (0 when the family does not track it). */
  readonly recent: number;
}

/**
 * `recentMs`: also count the events in the last `recentMs` of each window, so a long window
 * knows its own short tail and trending velocity needs no second window to line up with.
 */
export function activityAggregator(
  distinctOf: (e: ClickEvent) => string,
  precision: number,
  exactLimit: number,
  recentMs = 0,
): Aggregator<ClickEvent, ActivityAcc, Activity> {
  return {
    create: (start, end) => ({
      start,
      counts: [0, 0, 0, 0, 0, 0, 0],
      units: 0,
      revenue: 0,
      firstTs: Infinity,
      lastTs: -Infinity,
      recent: 0,
      recentFrom: recentMs > 0 ? end - recentMs : Infinity,
      distinct: new DistinctCounter(precision, exactLimit),
    }),
    add(acc, e, ts) {
      acc.counts[TYPE_CODE[e.type]]++;
      if (e.type === 'purchase') {
        const q = e.quantity ?? 1;
        acc.units += q;
        if (e.price !== undefined) acc.revenue += e.price * q;
      }
      if (ts < acc.firstTs) acc.firstTs = ts;
      if (ts > acc.lastTs) acc.lastTs = ts;
      if (ts >= acc.recentFrom) acc.recent++;
      acc.distinct.add(distinctOf(e));
      return acc;
    },
    merge(into, other) {
      for (let i = 0; i < into.counts.length; i++) into.counts[i] += other.counts[i];
      into.units += other.units;
      into.revenue += other.revenue;
      if (other.firstTs < into.firstTs) into.firstTs = other.firstTs;
      if (other.lastTs > into.lastTs) into.lastTs = other.lastTs;
      // Panes merging into a window: a pane inside the window's tail is recent as a whole
      // (tails are whole panes, see PaneWindows). Sessions track no tail.
      if (other.start >= into.recentFrom) for (const n of other.counts) into.recent += n;
      into.distinct.merge(other.distinct);
      return into;
    },
    result: (acc) => activityOf(acc),
  };
}

function activityOf(acc: ActivityAcc): Activity {
  const counts = {} as Record<EventType, number>;
  let total = 0;
  for (const t of EVENT_TYPES) {
    const n = acc.counts[TYPE_CODE[t]];
    counts[t] = n;
    total += n;
  }
  return {
    counts,
    total,
    distinct: acc.distinct.estimate(),
    distinctExact: acc.distinct.exact,
    units: acc.units,
    revenue: acc.revenue,
    firstTs: acc.firstTs,
    lastTs: acc.lastTs,
    recent: acc.recent,
  };
}

export const EMPTY_ACTIVITY: Activity = Object.freeze({
  counts: Object.freeze(
    Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Record<EventType, number>,
  ),
  total: 0,
  distinct: 0,
  distinctExact: true,
  units: 0,
  revenue: 0,
  firstTs: Infinity,
  lastTs: -Infinity,
  recent: 0,
});
