import { describe, expect, it } from 'vitest';
import { allSteps, stepsWithTurns, timedSteps } from '../../models/core/steps.js';

/** Three steps, logging each, then `value`. */
function* work(log: string[], value: string): Generator<void, string, undefined> {
  log.push('a');
  yield;
  log.push('b');
  yield;
  log.push('c');
  return value;
}

describe('steps', () => {
  it('stepsWithTurns awaits a turn where the steps yield, none after the last', async () => {
    const log: string[] = [];
    const turn = async (): Promise<void> => {
      await Promise.resolve();
      log.push('turn');
    };
    await expect(stepsWithTurns(work(log, 'done'), turn)).resolves.toBe('done');
    expect(log).toEqual(['a', 'turn', 'b', 'turn', 'c']);
  });

  it('stepsWithTurns takes a synchronous turn, and rejects with what a step throws', async () => {
    let turns = 0;
    await expect(stepsWithTurns(work([], 'v'), () => void turns++)).resolves.toBe('v');
    expect(turns).toBe(2);
    function* failing(): Generator<void, never, undefined> {
      yield;
      throw new Error('step failed');
    }
    await expect(stepsWithTurns(failing(), () => undefined)).rejects.toThrow('step failed');
  });

  it('timedSteps keeps the steps and their value, reporting each step once', () => {
    const log: string[] = [];
    const took: number[] = [];
    expect(allSteps(timedSteps(work(log, 'v'), (ms) => took.push(ms)))).toBe('v');
    expect(log).toEqual(['a', 'b', 'c']);
    expect(took).toHaveLength(3);
    expect(took.every((ms) => ms >= 0)).toBe(true);
  });
});
