import type { ClickEvent } from '../event.js';
import type { Aggregator } from '../windowing/types.js';
import { HashDistinct, idHash } from './hash-distinct.js';

/** What a session reports: its depth, span and distinct items (the session_* features). */
export interface SessionActivity {
  readonly total: number;
  readonly distinct: number;
  readonly firstTs: number;
  readonly lastTs: number;
}

/**
 * A session's running state: a few numbers, and the distinct items as hashes (the first one
 * inline, more in a HashDistinct), so a one-page visit costs no set and no id string.
 */
export interface SessionAcc {
  total: number;
  firstTs: number;
  lastTs: number;
  /** Hash of the first item (meaningless while total is 0 or `more` is set). */
  first: number;
  more: HashDistinct | null;
}

export function sessionAggregator(
  precision: number,
  exactLimit: number,
): Aggregator<ClickEvent, SessionAcc, SessionActivity> {
  const addHash = (acc: SessionAcc, h: number, fresh: boolean): void => {
    if (acc.more !== null) acc.more.add(h);
    else if (fresh) acc.first = h;
    else if (h !== acc.first) {
      acc.more = new HashDistinct(precision, exactLimit);
      acc.more.add(acc.first);
      acc.more.add(h);
    }
  };
  return {
    create: () => ({ total: 0, firstTs: Infinity, lastTs: -Infinity, first: 0, more: null }),
    add(acc, e, ts) {
      addHash(acc, idHash(e.itemId), acc.total === 0);
      acc.total++;
      if (ts < acc.firstTs) acc.firstTs = ts;
      if (ts > acc.lastTs) acc.lastTs = ts;
      return acc;
    },
    merge(into, other) {
      if (other.total > 0) {
        const fresh = into.total === 0 && into.more === null;
        if (other.more !== null) {
          if (fresh) into.more = new HashDistinct(precision, exactLimit);
          else if (into.more === null) {
            into.more = new HashDistinct(precision, exactLimit);
            into.more.add(into.first);
          }
          into.more.merge(other.more);
        } else addHash(into, other.first, fresh);
      }
      into.total += other.total;
      if (other.firstTs < into.firstTs) into.firstTs = other.firstTs;
      if (other.lastTs > into.lastTs) into.lastTs = other.lastTs;
      return into;
    },
    result: (acc) => ({
      total: acc.total,
      distinct: acc.more !== null ? acc.more.estimate() : acc.total > 0 ? 1 : 0,
      firstTs: acc.firstTs,
      lastTs: acc.lastTs,
    }),
  };
}
