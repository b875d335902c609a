import { concatMap, type MonoTypeOperatorFunction, type OperatorFunction } from 'rxjs';
import { stepsWithTurns } from '../models/core/steps.js';

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

/**
 * Runs each value's steps in order, one value at a time, awaiting `turn` where the steps yield;
 * `due` tells the steps when `sliceMs` have been worked since the value began or the last turn.
 * The steps decide where they may yield (after a count of work, or when due).
 */
export function inSlices<T, R>(
  turn: () => Promise<void>,
  sliceMs: number,
  steps: (value: T, due: () => boolean) => Generator<void, R, undefined>,
): OperatorFunction<T, R> {
  const clock = new SliceClock(sliceMs);
  const nextSlice = async (): Promise<void> => {
    await turn();
    clock.start();
  };
  return concatMap((value: T) => {
    clock.start();
    return stepsWithTurns(steps(value, clock.due), nextSlice);
  });
}

/** A `due` that never is: steps run to the end without slices of time (replay). */
export const neverDue = (): boolean => false;
