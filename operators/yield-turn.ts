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
