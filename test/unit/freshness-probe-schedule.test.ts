import { describe, expect, it } from 'vitest';
import { pollDelayMs } from '../../bench/freshness-probe.js';

describe('freshness probe poll schedule', () => {
  it('polls a young marker every 5 ms', () => {
    for (const age of [0, 1, 100, 250, 299]) expect(pollDelayMs(age)).toBe(5);
  });

  it('reads every latency within 2 % of its age', () => {
    for (let age = 0; age <= 60_000; age += 37) {
      const d = pollDelayMs(age);
      expect(d).toBeGreaterThanOrEqual(5);
      // the next poll sees the marker at most d late: d is at most 2 % of the age, or 5 ms
      expect(d).toBeLessThanOrEqual(Math.max(5, 0.02 * age));
    }
  });

  it('bounds the reads of markers held for the whole give-up time', () => {
    // 4 markers/s for 60 s, all unseen (the job far behind): reads per second over their ages
    let perSecond = 0;
    for (let i = 0; i < 240; i++) perSecond += 1000 / pollDelayMs(i * 250);
    // every marker every 5 ms would be 240 * 200 = 48,000
    expect(perSecond).toBeLessThan(1_500);
  });
});
