import type { Aggregator, Firing, WindowBounds, WindowOutput, WindowSnapshot } from './types.js';

/*
 * The per-window record of WindowEngine and what the engine makes of it: a new window, the
 * result it emits (with the bounds that result replaces), a read-only snapshot, and a key's
 * collection of windows.
 */

/** Mutable per-window state; never leaves the engine. */
export interface Win<K, A> {
  readonly key: K;
  start: number;
  end: number;
  acc: A;
  /** The last emitted result reflects all current content; the pending timer is the close timer. */
  fired: boolean;
  alive: boolean;
  /** Time of this window's one valid heap entry (NaN: none); other entries for it are stale. */
  timerAt: number;
  /** Bounds of the last emitted result (NaN: none yet); numbers, not an object per emission. */
  emittedStart: number;
  emittedEnd: number;
  /** Emitted bounds of sessions merged into this one, to retract with the next result. */
  absorbed: WindowBounds[] | null;
  /** Some content arrived while the watermark was already past `end`. */
  hasLate: boolean;
}

/** A key's windows: aligned ones by start, sessions sorted by start. */
export type KeyState<K, A> = Map<number, Win<K, A>> | Win<K, A>[];

export function newWin<K, A>(key: K, start: number, end: number, acc: A): Win<K, A> {
  return {
    key,
    start,
    end,
    acc,
    fired: false,
    alive: true,
    timerAt: NaN,
    emittedStart: NaN,
    emittedEnd: NaN,
    absorbed: null,
    hasLate: false,
  };
}

/** The result `w` emits now, retracting what it emitted before under other bounds. */
export function emitWin<K, V, A, R>(
  aggregator: Aggregator<V, A, R>,
  w: Win<K, A>,
  final: boolean,
  firing: Firing,
): WindowOutput<K, V, R> {
  let retracts: WindowBounds[] | null = null;
  // NaN (never emitted) compares unequal to itself, hence the self-comparison.
  const wasEmitted = w.emittedStart === w.emittedStart;
  if (wasEmitted && (w.emittedStart !== w.start || w.emittedEnd !== w.end)) {
    retracts = [{ start: w.emittedStart, end: w.emittedEnd }];
  }
  if (w.absorbed !== null) (retracts ??= []).push(...w.absorbed);
  const agg = aggregator.result(w.acc);
  const out: WindowOutput<K, V, R> =
    retracts === null
      ? { kind: 'window', key: w.key, start: w.start, end: w.end, agg, final, firing }
      : { kind: 'window', key: w.key, start: w.start, end: w.end, agg, final, firing, retracts };
  w.emittedStart = w.start;
  w.emittedEnd = w.end;
  w.absorbed = null;
  w.hasLate = false;
  return out;
}

export function snapshotOf<K, V, A, R>(
  aggregator: Aggregator<V, A, R>,
  w: Win<K, A>,
): WindowSnapshot<R> {
  return { start: w.start, end: w.end, agg: aggregator.result(w.acc), fired: w.fired };
}

/** A key's windows, oldest start first. */
export function byStart<K, A>(ks: KeyState<K, A>): Win<K, A>[] {
  return Array.isArray(ks) ? ks : [...ks.values()].sort((a, b) => a.start - b.start);
}

/** The window of a key that starts last (its most recent session). */
export function latestStart<K, A>(ks: KeyState<K, A>): Win<K, A> | undefined {
  let best: Win<K, A> | undefined;
  for (const w of Array.isArray(ks) ? ks : ks.values())
    if (best === undefined || w.start > best.start) best = w;
  return best;
}

/** Takes `w` out of its key's windows; true when none are left. */
export function removeWin<K, A>(ks: KeyState<K, A>, w: Win<K, A>): boolean {
  if (Array.isArray(ks)) {
    const i = ks.indexOf(w);
    if (i >= 0) ks.splice(i, 1);
    return ks.length === 0;
  }
  ks.delete(w.start);
  return ks.size === 0;
}

export function positive(n: number, name: string): number {
  if (!(Number.isFinite(n) && n > 0))
    throw new RangeError(`${name} must be a positive number, got ${n}`);
  return n;
}

export function nonNegative(n: number, name: string): number {
  if (!(Number.isFinite(n) && n >= 0))
    throw new RangeError(`${name} must be a non-negative number, got ${n}`);
  return n;
}
