import { DistinctCounter } from './distinct-counter.js';
import type { Aggregator } from './types.js';

/** The general-purpose window aggregate: count, sum, distinct-count estimate and last seen. */
export interface WindowStats<V> {
  readonly count: number;
  readonly sum: number;
  /** Exact while `distinctExact`, else a HyperLogLog estimate. 0 without `distinctOf`. */
  readonly distinct: number;
  readonly distinctExact: boolean;
  readonly firstTs: number;
  /** Last seen: the greatest event time in the window, and the value that carried it. */
  readonly lastTs: number;
  readonly last: V;
}

export interface WindowStatsOptions<V> {
  /** What `sum` adds up (default: nothing, sum stays 0). */
  readonly amountOf?: (value: V) => number;
  /** What `distinct` counts (default: nothing). */
  readonly distinctOf?: (value: V) => string;
  readonly precision?: number;
  readonly exactLimit?: number;
}

export interface WindowStatsAcc<V> {
  count: number;
  sum: number;
  firstTs: number;
  lastTs: number;
  /** Arrival order of `last`, so ties on lastTs resolve to the latest arrival even after merges. */
  lastSeq: number;
  last: V | undefined;
  distinct: DistinctCounter | null;
}

export function windowStats<V>(
  options: WindowStatsOptions<V> = {},
): Aggregator<V, WindowStatsAcc<V>, WindowStats<V>> {
  const { amountOf, distinctOf, precision = 10, exactLimit = 64 } = options;
  let seq = 0;
  return {
    create: () => ({
      count: 0,
      sum: 0,
      firstTs: Infinity,
      lastTs: -Infinity,
      lastSeq: -1,
      last: undefined,
      distinct: distinctOf ? new DistinctCounter(precision, exactLimit) : null,
    }),
    add(acc, value, ts) {
      acc.count++;
      if (amountOf) acc.sum += amountOf(value);
      if (ts < acc.firstTs) acc.firstTs = ts;
      const s = seq++;
      if (ts >= acc.lastTs) {
        acc.lastTs = ts;
        acc.lastSeq = s;
        acc.last = value;
      }
      if (acc.distinct !== null && distinctOf) acc.distinct.add(distinctOf(value));
      return acc;
    },
    merge(into, other) {
      into.count += other.count;
      into.sum += other.sum;
      if (other.firstTs < into.firstTs) into.firstTs = other.firstTs;
      if (
        other.lastTs > into.lastTs ||
        (other.lastTs === into.lastTs && other.lastSeq > into.lastSeq)
      ) {
        into.lastTs = other.lastTs;
        into.lastSeq = other.lastSeq;
        into.last = other.last;
      }
      if (into.distinct !== null && other.distinct !== null) into.distinct.merge(other.distinct);
      return into;
    },
    result: (acc) => ({
      count: acc.count,
      sum: acc.sum,
      distinct: acc.distinct === null ? 0 : acc.distinct.estimate(),
      distinctExact: acc.distinct === null || acc.distinct.exact,
      firstTs: acc.firstTs,
      lastTs: acc.lastTs,
      // A window only exists once a value was added, so `last` is set whenever a result is taken.
      last: acc.last as V,
    }),
  };
}

/** Plain count, for when nothing else is needed. */
export function countAggregator<V>(): Aggregator<V, { n: number }, number> {
  return {
    create: () => ({ n: 0 }),
    add: (acc) => {
      acc.n++;
      return acc;
    },
    merge: (into, other) => {
      into.n += other.n;
      return into;
    },
    result: (acc) => acc.n,
  };
}
