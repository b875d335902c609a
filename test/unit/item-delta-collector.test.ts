import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeItemDeltas, encodeItemDeltas } from '../../models/core/item-delta-codec.js';
import {
  ItemDeltaCollector,
  SCALARS,
  itemPartition,
  type ItemDeltaRecord,
} from '../../models/core/item-deltas.js';

const DIM = 3;
/** Item names: ASCII, and some that are not (UTF-8 of 2 to 4 bytes per character). */
const name = (i: number): string => (i % 7 === 3 ? `é-${i}-商品-😀` : `item-${i}`);

type Op =
  | { kind: 'scalar'; item: number; slot: number; value: number }
  | { kind: 'pair'; row: number; col: number; value: number }
  | { kind: 'factor'; item: number; d: number; value: number };

/** What a take() must return, summed by name (brute force: string-keyed maps). */
interface Sums {
  scalars: Map<string, number[]>;
  pairs: Map<string, number>;
  factors: Map<string, number[]>;
}

function bruteForce(ops: readonly Op[]): Sums {
  const s: Sums = { scalars: new Map(), pairs: new Map(), factors: new Map() };
  for (const op of ops) {
    if (op.kind === 'scalar') {
      const v = s.scalars.get(name(op.item)) ?? new Array<number>(SCALARS).fill(0);
      v[op.slot] = (v[op.slot] ?? 0) + op.value;
      s.scalars.set(name(op.item), v);
    } else if (op.kind === 'pair') {
      const k = `${name(op.row)} ${name(op.col)}`;
      s.pairs.set(k, (s.pairs.get(k) ?? 0) + op.value);
    } else {
      const v = s.factors.get(name(op.item)) ?? new Array<number>(DIM + 1).fill(0);
      v[op.d] = (v[op.d] ?? 0) + op.value;
      s.factors.set(name(op.item), v);
    }
  }
  return s;
}

function fromRecords(records: readonly ItemDeltaRecord[], partitions: number): Sums {
  const s: Sums = { scalars: new Map(), pairs: new Map(), factors: new Map() };
  for (const r of records) {
    r.scalarItems.forEach((k, t) => {
      const item = r.items[k] as string;
      // an item's counters travel in its own partition's record, once
      expect(itemPartition(item, partitions)).toBe(r.partition);
      expect(s.scalars.has(item)).toBe(false);
      s.scalars.set(item, [...r.scalars.subarray(t * SCALARS, (t + 1) * SCALARS)]);
    });
    r.factorItems.forEach((k, t) => {
      const item = r.items[k] as string;
      expect(itemPartition(item, partitions)).toBe(r.partition);
      const row = [...r.factors.subarray(t * (DIM + 1), (t + 1) * (DIM + 1))];
      // a row whose changes cancelled out is sent as zeros: nothing to compare
      if (row.some((x) => x !== 0)) s.factors.set(item, row);
    });
    for (let t = 0; t < r.pairRows.length; t++) {
      const row = r.items[r.pairRows[t] as number] as string;
      expect(itemPartition(row, partitions)).toBe(r.partition);
      s.pairs.set(`${row} ${r.items[r.pairCols[t] as number]}`, r.pairValues[t] as number);
    }
  }
  return s;
}

function expectClose(got: Map<string, number[] | number>, want: Map<string, number[] | number>) {
  const nonZero = [...want].filter(([, v]) => (Array.isArray(v) ? v.some((x) => x !== 0) : true));
  expect(got.size).toBe(nonZero.length);
  for (const [k, v] of nonZero) {
    const g = got.get(k);
    expect(g).toBeDefined();
    const a = Array.isArray(g) ? g : [g as number];
    const b = Array.isArray(v) ? v : [v];
    b.forEach((x, d) => expect(a[d]).toBeCloseTo(x, 3));
  }
}

const op = (items: number): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({
      kind: fc.constant('scalar' as const),
      item: fc.nat(items - 1),
      slot: fc.nat(SCALARS - 1),
      value: fc.integer({ min: 1, max: 1000 }).map((v) => v / 8),
    }),
    fc.record({
      kind: fc.constant('pair' as const),
      row: fc.nat(items - 1),
      col: fc.nat(items - 1),
      value: fc.integer({ min: 1, max: 1000 }).map((v) => v / 8),
    }),
    fc.record({
      kind: fc.constant('factor' as const),
      item: fc.nat(items - 1),
      d: fc.nat(DIM),
      value: fc.integer({ min: -1000, max: 1000 }).map((v) => v / 64),
    }),
  );

function record(c: ItemDeltaCollector, ops: readonly Op[]): void {
  c.begin(1_000);
  for (const o of ops) {
    if (o.kind === 'scalar') c.scalar(o.item, o.slot, o.value);
    else if (o.kind === 'pair') c.pair(o.row, o.col, o.value);
    else {
      const at = c.factorRow(o.item);
      (c.fac[at + o.d] as number) += o.value;
    }
  }
}

describe('ItemDeltaCollector', () => {
  it('takes the per-name sums of what was recorded, split by item partition (vs brute force)', () => {
    const collector = new ItemDeltaCollector(DIM);
    fc.assert(
      fc.property(
        fc.array(fc.array(op(3000), { maxLength: 3000, size: 'max' }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.integer({ min: 1, max: 7 }),
        (batches, partitions) => {
          // one collector for every batch: take() must start each batch over
          for (const ops of batches) {
            record(collector, ops);
            const records = collector.take(name, partitions);
            const got = fromRecords(records, partitions);
            const want = bruteForce(ops);
            expectClose(got.scalars, want.scalars);
            expectClose(got.pairs, want.pairs);
            expectClose(got.factors, want.factors);
            for (const r of records)
              expect({ ...decodeItemDeltas(encodeItemDeltas(r)), asciiNames: undefined }).toEqual(
                r,
              );
          }
          expect(collector.take(name, partitions)).toEqual([]);
        },
      ),
      { numRuns: 10 },
    );
  }, 60_000);
});
