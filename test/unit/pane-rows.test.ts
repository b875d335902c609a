import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type ClickEvent } from '../../models/event.js';
import { NONE, PaneRows, type PaneRecord } from '../../features/pane-rows.js';
import type { PaneSink } from '../../features/window-changelog-codec.js';
import { ReferencePaneRows } from '../support/pane-rows-reference.js';

/**
 * The packed PaneRows (narrow counts, event times as offsets, units/revenue only for panes with a
 * purchase) must read back exactly what the old all-Float64/Int32 layout held, for any input:
 * records, changelog writes and merged Activities compared with -0 and NaN told apart.
 */

const SLIDE = 600_000;
const T0 = 1_700_000_400_000; // a multiple of SLIDE

type Op =
  | { op: 'alloc'; start: number }
  | { op: 'add'; pane: number; type: number; ts: number; h: number; price?: number; qty?: number }
  | { op: 'many'; pane: number; type: number; n: number }
  | { op: 'release'; pane: number }
  | { op: 'load'; pane: number; rec: PaneRecord }
  | { op: 'copy'; from: number; to: number }
  | { op: 'forget'; h: number }
  | { op: 'merge'; lo: number; hi: number; recent: number };

const oddNumber = fc.constantFrom(
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  0.5,
  -3,
  2 ** 31,
  2 ** 32,
  1e300,
  T0 + 0.25,
  T0 - 1,
  T0 + 2 ** 32 - 3,
  T0 + 2 ** 32 - 2,
);
const startArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 5 }).map((k) => T0 + k * SLIDE) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 0.5, 1e15, 2 ** 53 - 1) },
);
// an event time relative to its pane's start: mostly inside the pane, sometimes anywhere
const offsetArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: SLIDE - 1 }) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: SLIDE, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(-0, -1, 2 ** 32 - 3, 2 ** 32 - 2, 2 ** 32, 1e-9) },
);
// few values, so that panes often sit at 3 or 4 distinct (the side row) and erasures hit them
const hashArb = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -8, max: 8 }));
const countArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 1, arbitrary: oddNumber },
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) },
);
const moneyArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.double({ noNaN: false }) },
  { weight: 1, arbitrary: oddNumber },
);
const recordArb: fc.Arbitrary<PaneRecord> = fc.record({
  start: fc.constant(0), // replaced by the pane's own start when loaded
  counts: fc.array(countArb, { minLength: 0, maxLength: EVENT_TYPES.length + 1 }),
  units: moneyArb,
  revenue: moneyArb,
  firstTs: fc.oneof(
    offsetArb.map((d) => T0 + d),
    oddNumber,
  ),
  lastTs: fc.oneof(
    offsetArb.map((d) => T0 + d),
    oddNumber,
  ),
  hashes: fc.array(hashArb, { maxLength: 8 }),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: startArb.map((start) => ({ op: 'alloc' as const, start })) },
  {
    weight: 12,
    arbitrary: fc.record(
      {
        op: fc.constant('add' as const),
        pane: fc.nat(),
        type: fc.integer({ min: 0, max: EVENT_TYPES.length - 1 }),
        ts: offsetArb,
        h: hashArb,
        price: fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constantFrom(0, -0, 9.99)),
        qty: fc.integer({ min: 1, max: 1000 }),
      },
      { requiredKeys: ['op', 'pane', 'type', 'ts', 'h'] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('many' as const),
      pane: fc.nat(),
      type: fc.integer({ min: 0, max: EVENT_TYPES.length - 1 }),
      n: fc.integer({ min: 1, max: 300 }),
    }),
  },
  { weight: 2, arbitrary: fc.nat().map((pane) => ({ op: 'release' as const, pane })) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('load' as const), pane: fc.nat(), rec: recordArb }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('copy' as const), from: fc.nat(), to: fc.nat() }),
  },
  { weight: 3, arbitrary: hashArb.map((h) => ({ op: 'forget' as const, h })) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('merge' as const),
      lo: fc.integer({ min: -1, max: 6 }),
      hi: fc.integer({ min: 0, max: 7 }),
      recent: fc.integer({ min: 0, max: 7 }),
    }),
  },
);

/** Numbers as strings that keep -0 and NaN apart from 0 and each other. */
function exact(v: unknown): unknown {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(exact);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, exact(x)]));
  return v;
}

/** Everything writeTo hands a changelog sink, in order. */
function written(rows: { writeTo(q: number, w: PaneSink): void }, q: number): unknown[] {
  const out: unknown[] = [];
  rows.writeTo(q, {
    family: () => undefined,
    pane: (start, units, revenue, firstTs, lastTs, counts, from, n, sketch) => {
      const c: number[] = [];
      for (let i = 0; i < n; i++) c.push(counts[from + i] as number);
      out.push(['pane', start, units, revenue, firstTs, lastTs, c, sketch ? [...sketch] : null]);
    },
    hash: (h) => out.push(['hash', h]),
  });
  return exact(out) as unknown[];
}

function event(type: number, price?: number, quantity?: number): ClickEvent {
  return {
    eventId: 'e',
    ts: 0,
    userId: 'u',
    itemId: 'i',
    type: EVENT_TYPES[type],
    ...(price !== undefined && { price }),
    ...(quantity !== undefined && { quantity }),
  };
}

function run(ops: readonly Op[], exactLimit: number): void {
  const packed = new PaneRows(6, exactLimit);
  const ref = new ReferencePaneRows(6, exactLimit);
  const live: number[] = [];
  const pick = (i: number): number | undefined =>
    live.length === 0 ? undefined : live[i % live.length];
  for (const o of ops) {
    switch (o.op) {
      case 'alloc': {
        const q = packed.alloc(o.start);
        expect(ref.alloc(o.start)).toBe(q);
        live.push(q);
        break;
      }
      case 'add': {
        const q = pick(o.pane);
        if (q === undefined) break;
        const e = event(o.type, o.price, o.qty);
        const ts = ref.start[q] + o.ts;
        packed.add(q, e, ts, o.h);
        ref.add(q, e, ts, o.h);
        break;
      }
      case 'many': {
        const q = pick(o.pane);
        if (q === undefined) break;
        const e = event(o.type);
        for (let i = 0; i < o.n; i++) {
          packed.add(q, e, ref.start[q] + i, i);
          ref.add(q, e, ref.start[q] + i, i);
        }
        break;
      }
      case 'release': {
        const q = pick(o.pane);
        if (q === undefined) break;
        live.splice(live.indexOf(q), 1);
        packed.release(q);
        ref.release(q);
        break;
      }
      case 'load':
      case 'copy': {
        const q = pick(o.op === 'load' ? o.pane : o.to);
        if (q === undefined) break;
        const from = o.op === 'copy' ? pick(o.from) : undefined;
        const rec = from !== undefined ? ref.record(from) : o.op === 'load' ? o.rec : ref.record(q);
        const r = { ...rec, start: ref.start[q] };
        packed.load(q, r);
        ref.load(q, r);
        break;
      }
      case 'forget':
        packed.forgetHash(o.h);
        ref.forgetHash(o.h);
        break;
      case 'merge': {
        // one list through every live pane, the same in both
        for (let i = 0; i < live.length; i++) {
          const n = i + 1 < live.length ? live[i + 1] : NONE;
          packed.next[live[i]] = n;
          ref.next[live[i]] = n;
        }
        const head = live.length > 0 ? live[0] : NONE;
        const at = (k: number): number => T0 + k * SLIDE;
        expect(exact(packed.merge(head, at(o.lo), at(o.hi), at(o.recent)))).toEqual(
          exact(ref.merge(head, at(o.lo), at(o.hi), at(o.recent))),
        );
        break;
      }
    }
    expect(packed.live).toBe(ref.live);
    for (const q of live) {
      expect(exact(packed.record(q))).toEqual(exact(ref.record(q)));
      expect(written(packed, q)).toEqual(written(ref, q));
    }
  }
}

describe('PaneRows (packed) against the Float64/Int32 layout', () => {
  it('reads back the same records, changelog writes and merges for any operations', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 80 }),
        fc.constantFrom(0, 2, 4, 6, 1000),
        (ops, lim) => run(ops, lim),
      ),
      { numRuns: 400 },
    );
  });

  it('moves 3 or 4 distinct hashes to a side row and back, in the same order', () => {
    const add = (h: number): Op => ({ op: 'add', pane: 0, type: 0, ts: 0, h });
    run(
      [
        { op: 'alloc', start: T0 },
        add(7),
        add(8),
        add(9),
        { op: 'forget', h: 7 },
        add(10),
        add(11),
        { op: 'forget', h: 9 },
        { op: 'forget', h: 8 },
        add(12),
        add(13),
        add(14),
        { op: 'alloc', start: T0 },
        { op: 'add', pane: 1, type: 0, ts: 0, h: 1 },
        { op: 'add', pane: 1, type: 0, ts: 0, h: 2 },
        { op: 'add', pane: 1, type: 0, ts: 0, h: 3 },
        { op: 'merge', lo: 0, hi: 1, recent: 0 },
        { op: 'release', pane: 0 },
        { op: 'alloc', start: T0 },
        { op: 'add', pane: 1, type: 0, ts: 0, h: 4 },
        { op: 'merge', lo: 0, hi: 1, recent: 0 },
      ],
      6,
    );
  });

  it('keeps counts past the narrow column and times off the ms grid exactly', () => {
    run(
      [
        { op: 'alloc', start: T0 },
        { op: 'many', pane: 0, type: 4, n: 300 },
        { op: 'add', pane: 0, type: 4, ts: 0.5, h: 1, price: 0.1, qty: 3 },
        { op: 'add', pane: 0, type: 0, ts: 2 ** 32, h: 2 },
        {
          op: 'load',
          pane: 0,
          rec: {
            start: 0,
            counts: [-1, 2 ** 31, 254, 255, 0.5],
            units: -0,
            revenue: 0,
            firstTs: -Infinity,
            lastTs: NaN,
            hashes: [],
          },
        },
        { op: 'alloc', start: T0 },
        // a pane without a purchase loaded with -0 units: -0 must read back, not +0
        {
          op: 'load',
          pane: 1,
          rec: { start: 0, counts: [1], units: -0, revenue: 0, firstTs: T0, lastTs: T0 },
        },
        { op: 'merge', lo: 0, hi: 1, recent: 0 },
        { op: 'release', pane: 0 },
        { op: 'alloc', start: -0 },
        { op: 'add', pane: 1, type: 4, ts: -0, h: 3 },
        { op: 'merge', lo: -1, hi: 7, recent: 0 },
      ],
      4,
    );
  });
});
