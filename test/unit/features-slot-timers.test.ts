import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlotTimers } from '../../features/slot-timers.js';
import { TimerHeap } from '../../stream/windowing/timer-heap.js';

describe('SlotTimers: timers bucketed by time', () => {
  it('fires the same slots in the same order as a TimerHeap, with pushes between pops', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('push' as const),
        // few distinct times, as pane boundaries give, so buckets hold several entries
        time: fc.integer({ min: 0, max: 12 }).map((t) => t * 60_000),
        slot: fc.integer({ min: 0, max: 50 }),
      }),
      fc.record({
        kind: fc.constant('fire' as const),
        upTo: fc.integer({ min: -1, max: 13 }).map((t) => t * 60_000),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const heap = new TimerHeap<number>();
        const timers = new SlotTimers();
        const want: number[] = [];
        const got: number[] = [];
        for (const o of ops) {
          if (o.kind === 'push') {
            heap.push(o.time, o.slot);
            timers.push(o.time, o.slot);
          } else {
            // re-arming while firing, as ActivityPanes does for a key's next pane
            while (heap.size > 0 && heap.peekTime() <= o.upTo) {
              const t = heap.peekTime();
              const s = heap.pop();
              want.push(t, s);
              if (s % 3 === 0) heap.push(t + 120_000, s + 1);
            }
            while (timers.size > 0 && timers.peekTime() <= o.upTo) {
              const t = timers.peekTime();
              const s = timers.pop();
              got.push(t, s);
              if (s % 3 === 0) timers.push(t + 120_000, s + 1);
            }
          }
          expect(timers.size).toBe(heap.size);
          expect(timers.peekTime()).toBe(heap.peekTime());
        }
        expect(got).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });

  it('is empty at +Infinity and grows a bucket past its first allocation', () => {
    const timers = new SlotTimers();
    expect(timers.peekTime()).toBe(Infinity);
    for (let s = 0; s < 100; s++) timers.push(5, s);
    timers.push(3, 999);
    const out: number[] = [];
    while (timers.size > 0) out.push(timers.pop());
    expect(out).toEqual([999, ...Array.from({ length: 100 }, (_, i) => i)]);
    expect(timers.peekTime()).toBe(Infinity);
  });
});
