import { describe, expect, it } from 'vitest';
import { LearnLedger, packSnapshot, unpackSnapshot } from '../../pipeline/runtime/learn-ledger.js';
import { CurrentUsers } from '../../pipeline/runtime/user-state.js';

describe('LearnLedger', () => {
  it('lets each offset be learned once, whichever side claims it first', () => {
    const l = new LearnLedger();
    expect(l.claim(0, 5)).toBe(true);
    expect(l.claim(0, 5)).toBe(false);
    expect(l.claim(0, 3)).toBe(false); // a replay behind what is learned
    expect(l.claim(0, 9)).toBe(true); // gaps are fine (dead letters, other side)
    expect(l.get(0)).toBe(10);
    expect(l.claim(1, 0)).toBe(true); // partitions are independent
  });

  it('only moves forward', () => {
    const l = new LearnLedger();
    l.advance(2, 100);
    l.advance(2, 40);
    expect(l.get(2)).toBe(100);
    expect(l.claim(2, 99)).toBe(false);
    expect(l.claim(2, 100)).toBe(true);
  });
});

describe('snapshot packing', () => {
  it('round-trips the model bytes and the ledger as one value', () => {
    const l = new LearnLedger();
    l.advance(0, 17);
    l.advance(5, 123_456_789);
    const model = Uint8Array.from([1, 2, 3, 250, 0, 7]);
    const packed = packSnapshot(l, model);

    const restored = new LearnLedger();
    expect([...unpackSnapshot(packed, restored)]).toEqual([...model]);
    expect(restored.toJSON()).toEqual({ '0': 17, '5': 123_456_789 });
  });

  it('reads an older snapshot without a ledger as model bytes', () => {
    const l = new LearnLedger();
    const model = Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(unpackSnapshot(model, l)).toBe(model);
    expect(l.toJSON()).toEqual({});
  });
});

describe('CurrentUsers', () => {
  it('forgets the users of revoked partitions only', () => {
    const u = new CurrentUsers();
    u.markCurrent('a', 0);
    u.markCurrent('b', 1);
    u.markCurrent('c', 1);
    expect(u.forget([1, 4])).toBe(2);
    expect(u.isCurrent('a')).toBe(true);
    expect(u.isCurrent('b')).toBe(false);
    expect(u.size).toBe(1);
  });

  it('follows a user seen on another partition (the topic was repartitioned)', () => {
    const u = new CurrentUsers();
    u.markCurrent('a', 0);
    u.markCurrent('a', 3);
    expect(u.forget([0])).toBe(0);
    expect(u.isCurrent('a')).toBe(true);
    expect(u.forget([3])).toBe(1);
  });
});
