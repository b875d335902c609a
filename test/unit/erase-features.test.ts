import { describe, expect, it } from 'vitest';
import type { ClickEvent } from '../../models/event.js';
import { FeatureStore } from '../../features/feature-store.js';
import { DistinctCounter } from '../../stream/windowing/distinct-counter.js';

const T0 = Date.UTC(2026, 10, 2, 10);
const ev = (userId: string, itemId: string, min: number): ClickEvent => ({
  eventId: `${userId}-${itemId}-${min}`,
  ts: T0 + min * 60_000,
  userId,
  itemId,
  type: 'view',
  category: 'HOME',
});

describe('FeatureStore.forgetUser', () => {
  it("drops the user's own state and their id from exact distinct-user counts", () => {
    const fs = new FeatureStore();
    fs.ingest([ev('a', 'x', 0), ev('victim', 'x', 1), ev('victim', 'y', 2), ev('b', 'y', 3)]);
    const users = (item: string): number[] =>
      Object.values(fs.itemFeatures(item)?.windows ?? {}).map((w) => w.distinctUsers);
    expect(users('x').every((n) => n === 2)).toBe(true);
    expect(fs.userFeatures('victim')).toBeDefined();

    expect(fs.forgetUser('victim')).toBe(true);
    expect(users('x').every((n) => n === 1)).toBe(true);
    expect(users('y').every((n) => n === 1)).toBe(true);
    const after = fs.userFeatures('victim');
    expect(after?.lastEventTs).toBeUndefined();
    expect(Object.values(after?.windows ?? {}).every((w) => w.total === 0)).toBe(true);
    // the others are untouched, and new events of the erased id start from nothing
    expect(fs.userFeatures('a')?.lastEventTs).toBe(T0);
    fs.ingest([ev('victim', 'z', 5)]);
    expect(users('z').every((n) => n === 1)).toBe(true);
  });

  it('DistinctCounter forgets exact values, not sketched ones', () => {
    const c = new DistinctCounter(10, 2);
    c.add('p');
    expect(c.forget('p')).toBe(true);
    expect(c.estimate()).toBe(0);
    c.add('p');
    c.add('q');
    expect(c.forget('q')).toBe(true);
    expect(c.estimate()).toBe(1);
    c.add('r');
    c.add('s'); // past the exact limit: a sketch
    expect(c.forget('r')).toBe(false);
  });
});
