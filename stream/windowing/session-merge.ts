import type { Aggregator } from './types.js';
import type { Win } from './window-state.js';

/** The run of a key's sessions an event's span touches, and the span they make together. */
export interface TouchedSessions {
  /** Index of the first touched session; -1 when the event touches none. */
  readonly first: number;
  readonly last: number;
  readonly lo: number;
  readonly hi: number;
}

/**
 * Which sessions `[lo, hi]` (an event's time and its gap) touches. Sessions of a key never
 * overlap or touch, and are sorted by start, so the ones it touches are one contiguous run.
 */
export function touchedSessions<K, A>(
  sessions: readonly Win<K, A>[] | undefined,
  lo: number,
  hi: number,
): TouchedSessions {
  let first = -1;
  let last = -1;
  if (sessions !== undefined) {
    for (let i = 0; i < sessions.length; i++) {
      const s = sessions[i];
      if (s.start > hi) break;
      if (s.end >= lo) {
        if (first < 0) first = i;
        last = i;
        if (s.start < lo) lo = s.start;
        if (s.end > hi) hi = s.end;
      }
    }
  }
  return { first, last, lo, hi };
}

/**
 * Folds sessions `first + 1 .. last` into `sessions[first]` (their aggregates, the emitted
 * bounds the next result retracts, lateness), removes them from the key and returns the
 * survivor. The caller sets its new bounds and counts the windows closed (`last - first`).
 */
export function mergeSessions<K, V, A, R>(
  sessions: Win<K, A>[],
  first: number,
  last: number,
  agg: Aggregator<V, A, R>,
): Win<K, A> {
  const w = sessions[first];
  for (let i = first + 1; i <= last; i++) {
    const o = sessions[i];
    w.acc = agg.merge(w.acc, o.acc);
    // NaN !== NaN: an emitted session has numeric emitted bounds
    if (o.emittedStart === o.emittedStart || o.absorbed !== null) {
      const absorbed = w.absorbed ?? (w.absorbed = []);
      if (o.emittedStart === o.emittedStart)
        absorbed.push({ start: o.emittedStart, end: o.emittedEnd });
      if (o.absorbed !== null) absorbed.push(...o.absorbed);
    }
    if (o.hasLate) w.hasLate = true;
    o.alive = false;
  }
  if (last > first) sessions.splice(first + 1, last - first);
  return w;
}
