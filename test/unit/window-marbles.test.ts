import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import type { Aggregator, WindowOutput } from '../../stream/windowing/types.js';
import {
  hoppingWindow,
  sessionWindow,
  tumblingWindow,
  windowBatches,
} from '../support/window-operators.js';

interface Ev {
  readonly id: string;
  readonly key: string;
  readonly ts: number;
}
const ev = (id: string, key: string, ts: number): Ev => ({ id, key, ts });

// Collecting ids (sorted) makes each expected result say exactly which events it holds.
const ids: Aggregator<Ev, string[], string[]> = {
  create: () => [],
  add: (acc, v) => {
    acc.push(v.id);
    return acc;
  },
  merge: (into, other) => {
    into.push(...other);
    return into;
  },
  result: (acc) => [...acc].sort(),
};

const common = { keyOf: (e: Ev) => e.key, timestampOf: (e: Ev) => e.ts, aggregator: ids };

type Out = WindowOutput<string, Ev, string[]>;
const win = (
  key: string,
  start: number,
  end: number,
  agg: string[],
  firing: 'on_time' | 'late' | 'close',
  final: boolean,
  retracts?: { start: number; end: number }[],
): Out => ({ kind: 'window', key, start, end, agg, firing, final, ...(retracts && { retracts }) });
const late = (e: Ev, watermark: number): Out => ({
  kind: 'late',
  key: e.key,
  ts: e.ts,
  value: e,
  watermark,
});

const scheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('tumblingWindow', () => {
  it('fires on the watermark, updates within lateness, closes, and side-outputs too-late events', () => {
    const e = {
      a: ev('a', 'u', 1),
      b: ev('b', 'u', 4),
      c: ev('c', 'u', 12), // wm 10: [0,10) fires on time, still open for 5 ms of lateness
      d: ev('d', 'u', 8), // late but allowed: an updated [0,10)
      e: ev('e', 'u', 17), // wm 15 = 10 + 5: [0,10) closes
      f: ev('f', 'u', 3), // too late: its only window is gone
    };
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('a-b-c-d-e-f|', e);
      const out = src.pipe(
        tumblingWindow({ ...common, sizeMs: 10, outOfOrdernessMs: 2, allowedLatenessMs: 5 }),
      );
      expectObservable(out).toBe('----x-y-z-L(w|)', {
        x: win('u', 0, 10, ['a', 'b'], 'on_time', false),
        y: win('u', 0, 10, ['a', 'b', 'd'], 'late', false),
        z: win('u', 0, 10, ['a', 'b', 'd'], 'close', true),
        L: late(e.f, 15),
        w: win('u', 10, 20, ['c', 'e'], 'on_time', true),
      });
    });
  });

  it('accepts out-of-order events within the bound without any late firing', () => {
    const e = { a: ev('a', 'u', 5), b: ev('b', 'u', 11), c: ev('c', 'u', 9), d: ev('d', 'u', 14) };
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('a-b-c-d|', e).pipe(
        tumblingWindow({ ...common, sizeMs: 10, outOfOrdernessMs: 3 }),
      );
      // wm after b is 8, so c (ts 9) is still on time; d moves wm to 11 and [0,10) fires once.
      expectObservable(out).toBe('------x(y|)', {
        x: win('u', 0, 10, ['a', 'c'], 'on_time', true),
        y: win('u', 10, 20, ['b', 'd'], 'on_time', true),
      });
    });
  });

  it('keeps keys apart and orders simultaneous firings by window end, then creation', () => {
    const e = { a: ev('a', 'u', 1), b: ev('b', 'v', 2), c: ev('c', 'u', 13), d: ev('d', 'v', 25) };
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('a-b-c---d|', e).pipe(
        tumblingWindow({ ...common, sizeMs: 10, flushOnComplete: false }),
      );
      expectObservable(out).toBe('----(xy)z|', {
        x: win('u', 0, 10, ['a'], 'on_time', true),
        y: win('v', 0, 10, ['b'], 'on_time', true),
        z: win('u', 10, 20, ['c'], 'on_time', true),
      }); // without the flush, [20,30) of v is never emitted and completion is still passed on
    });
  });
});

describe('hoppingWindow', () => {
  it('puts each event in size/slide windows and fires each window once', () => {
    const e = {
      a: ev('a', 'u', 3),
      b: ev('b', 'u', 7),
      c: ev('c', 'v', 8),
      d: ev('d', 'u', 12),
      f: ev('f', 'u', 2),
    };
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('a-b-c-d---f---|', e).pipe(
        hoppingWindow({ ...common, sizeMs: 10, slideMs: 5 }),
      );
      expectObservable(out).toBe('--p---(qr)L---(stu|)', {
        p: win('u', -5, 5, ['a'], 'on_time', true),
        q: win('u', 0, 10, ['a', 'b'], 'on_time', true),
        r: win('v', 0, 10, ['c'], 'on_time', true),
        L: late(e.f, 12),
        s: win('u', 5, 15, ['b', 'd'], 'on_time', true),
        t: win('v', 5, 15, ['c'], 'on_time', true),
        u: win('u', 10, 20, ['d'], 'on_time', true),
      });
    });
  });

  it('lets a late event update the windows still open and skips only the closed ones', () => {
    const e = { a: ev('a', 'u', 3), b: ev('b', 'u', 12), c: ev('c', 'u', 9) };
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('a-b---c|', e);
      const out = src.pipe(
        hoppingWindow({ ...common, sizeMs: 10, slideMs: 5, allowedLatenessMs: 0 }),
      );
      // wm 12 when c (ts 9) arrives: [0,10) is closed, [5,15) is not, so c is not a late output.
      expectObservable(out).toBe('--(pq)-(rs|)', {
        p: win('u', -5, 5, ['a'], 'on_time', true),
        q: win('u', 0, 10, ['a'], 'on_time', true),
        r: win('u', 5, 15, ['b', 'c'], 'on_time', true),
        s: win('u', 10, 20, ['b'], 'on_time', true),
      });
    });
  });
});

describe('hoppingWindow on change (panes)', () => {
  it('emits where a pane enters or leaves, the empty window included, and re-emits on late data', () => {
    const e = {
      a: ev('a', 'u', 3), // pane [0,5): windows ending 5 and 10 hold it
      b: ev('b', 'u', 7), // pane [5,10)
      c: ev('c', 'u', 21), // wm 21: ends 10, 15 (a left) and 20 (b left) are due
      d: ev('d', 'u', 18), // late for [10,20), which stays open until 20 + 5
    };
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('a-b-c------d|', e);
      const out = src.pipe(
        hoppingWindow({
          ...common,
          sizeMs: 10,
          slideMs: 5,
          emit: 'on-change',
          allowedLatenessMs: 5,
        }),
      );
      // b (wm 7) fires end 5. c (wm 21) fires 10, 15 (a left) and 20 (b left: empty). d is
      // late in a new pane [15,20): [10,20) is re-emitted with it at once; [15,25) (where it
      // enters pending windows) and the rest come with the flush.
      expectObservable(out).toBe('--w-(xyz)--q(rst|)', {
        w: win('u', -5, 5, ['a'], 'on_time', false),
        x: win('u', 0, 10, ['a', 'b'], 'on_time', true),
        y: win('u', 5, 15, ['b'], 'on_time', true),
        z: win('u', 10, 20, [], 'on_time', false),
        q: win('u', 10, 20, ['d'], 'late', false),
        r: win('u', 15, 25, ['c', 'd'], 'on_time', true),
        s: win('u', 20, 30, ['c'], 'on_time', true),
        t: win('u', 25, 35, [], 'on_time', true),
      });
    });
  });
});

describe('sessionWindow', () => {
  it('merges on inactivity gap, re-fires on late data, retracts merged bounds, side-outputs too-late', () => {
    const e = {
      a: ev('a', 'u', 1),
      b: ev('b', 'u', 4), // same session [1,9)
      c: ev('c', 'u', 20), // wm 20: [1,9) fires on time; open until 9 + 15
      d: ev('d', 'u', 11), // late: a new session [11,16) already behind the watermark
      e: ev('e', 'u', 7), // late: bridges [1,9) and [11,16) into [1,16)
      f: ev('f', 'u', 40), // wm 40: [20,25) fires and closes at once, [1,16) closes
      g: ev('g', 'u', 2), // too late: [2,7) would close at 22
    };
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('a----b----c----d----e----f----g----|', e);
      const out = src.pipe(sessionWindow({ ...common, gapMs: 5, allowedLatenessMs: 15 }));
      expectObservable(out).toBe('----------X----Y----Z----(PQ)-L----(R|)', {
        X: win('u', 1, 9, ['a', 'b'], 'on_time', false),
        Y: win('u', 11, 16, ['d'], 'late', false),
        Z: win('u', 1, 16, ['a', 'b', 'd', 'e'], 'late', false, [
          { start: 1, end: 9 },
          { start: 11, end: 16 },
        ]),
        P: win('u', 20, 25, ['c'], 'on_time', true),
        Q: win('u', 1, 16, ['a', 'b', 'd', 'e'], 'close', true),
        L: late(e.g, 40),
        R: win('u', 40, 45, ['f'], 'on_time', true),
      });
    });
  });

  it('merges sessions that touch (a pause of exactly the gap) and splits on a longer pause', () => {
    const e = { a: ev('a', 'u', 0), b: ev('b', 'u', 5), c: ev('c', 'u', 11) };
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('a-b-c|', e).pipe(sessionWindow({ ...common, gapMs: 5 }));
      expectObservable(out).toBe('----x(y|)', {
        x: win('u', 0, 10, ['a', 'b'], 'on_time', true),
        y: win('u', 11, 16, ['c'], 'on_time', true),
      });
    });
  });
});

describe('windowBatches', () => {
  it('emits one array per batch and judges a batch against the previous watermark', () => {
    const batches = {
      a: [ev('a', 'u', 1), ev('b', 'u', 12)], // wm 12 only after the whole batch: a is on time
      b: [ev('c', 'u', 5)], // judged against wm 12: too late
      c: [] as Ev[],
    };
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('a-b-c|', batches).pipe(
        windowBatches({ ...common, window: { kind: 'tumbling', size: 10 } }),
      );
      expectObservable(out).toBe('x-y-z(w|)', {
        x: [win('u', 0, 10, ['a'], 'on_time', true)],
        y: [late(batches.b[0], 12)],
        z: [],
        w: [win('u', 10, 20, ['b'], 'on_time', true)],
      });
    });
  });
});
