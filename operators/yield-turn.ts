import { concatMap, type MonoTypeOperatorFunction } from 'rxjs';

/**
 * Hands each value on after `turn()` resolves, in order. Placed between the graph's operators
 * with a macrotask as the turn, a large batch's pass becomes several event-loop turns instead of
 * one, so store replies, Kafka polls and timers are not held up for the whole pass.
 *
 * ```
 * source: --a--b--|      turn: resolves after the current macrotask
 *     yieldTurn(turn)
 * result: ---a--b-|      (same values, same order, each one turn later)
 * ```
 */
export function yieldTurn<T>(turn: () => Promise<void>): MonoTypeOperatorFunction<T> {
  return concatMap((value: T) => turn().then(() => value));
}

/**
 * When a long stretch of work should give the event loop back: `due()` once `ms` have passed
 * since `start()`. Slices by time rather than by count, so a slice stays short when GC or a
 * busy machine makes each unit of work slower (a count that was 50 ms on a quiet machine was
 * 300 ms late in a soak).
 */
export class SliceClock {
  private since = performance.now();

  constructor(private readonly ms: number) {}

  start(): void {
    this.since = performance.now();
  }

  readonly due = (): boolean => performance.now() - this.since >= this.ms;
}

/** The slice run's graph works before it yields (SliceClock); a stage's turns add up per loop. */
export const SLICE_MS = 15;
