import type { ClickEvent } from '../models/event.js';
import type { Aggregator } from '../stream/windowing/types.js';
import { HashDistinct, idHash } from './hash-distinct.js';

/** What a session reports: its depth, span and distinct items (the session_* features). */
export interface SessionActivity {
  readonly total: number;
  readonly distinct: number;
  readonly firstTs: number;
  readonly lastTs: number;
}

/**
 * A session's running state: a few numbers, and the distinct items as hashes (the first two
 * inline, more in a HashDistinct), so a short visit costs no set and holds no id string.
 */
export interface SessionAcc {
  total: number;
  firstTs: number;
  lastTs: number;
  /** Distinct hashes held inline (0..2); -1 once they moved to `more`. */
  n: number;
  h0: number;
  h1: number;
  more: HashDistinct | null;
}

export function sessionAggregator(
  precision: number,
  exactLimit: number,
): Aggregator<ClickEvent, SessionAcc, SessionActivity> {
  const addHash = (acc: SessionAcc, h: number): void => {
    if (acc.more !== null) acc.more.add(h);
    else if (acc.n === 0) {
      acc.h0 = h;
      acc.n = 1;
    } else if (h === acc.h0 || (acc.n === 2 && h === acc.h1)) return;
    else if (acc.n === 1 && exactLimit >= 2) {
      acc.h1 = h;
      acc.n = 2;
    } else {
      const d = new HashDistinct(precision, exactLimit);
      d.add(acc.h0);
      if (acc.n === 2) d.add(acc.h1);
      d.add(h);
      acc.more = d;
      acc.n = -1;
    }
  };
  return {
    create: () => ({
      total: 0,
      firstTs: Infinity,
      lastTs: -Infinity,
      n: 0,
      h0: 0,
      h1: 0,
      more: null,
    }),
    add(acc, e, ts) {
      addHash(acc, idHash(e.itemId));
      acc.total++;
      if (ts < acc.firstTs) acc.firstTs = ts;
      if (ts > acc.lastTs) acc.lastTs = ts;
      return acc;
    },
    merge(into, other) {
      if (other.more !== null) {
        if (into.more === null) {
          const d = new HashDistinct(precision, exactLimit);
          if (into.n >= 1) d.add(into.h0);
          if (into.n === 2) d.add(into.h1);
          into.more = d;
          into.n = -1;
        }
        into.more.merge(other.more);
      } else {
        if (other.n >= 1) addHash(into, other.h0);
        if (other.n === 2) addHash(into, other.h1);
      }
      into.total += other.total;
      if (other.firstTs < into.firstTs) into.firstTs = other.firstTs;
      if (other.lastTs > into.lastTs) into.lastTs = other.lastTs;
      return into;
    },
    result: (acc) => ({
      total: acc.total,
      distinct: acc.more !== null ? acc.more.estimate() : acc.n,
      firstTs: acc.firstTs,
      lastTs: acc.lastTs,
    }),
  };
}
