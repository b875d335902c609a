import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopK } from '../../models/core/topk.js';
import { SparseRows, TOP_STRIDE } from '../../models/core/sparse-rows.js';
import { Slab, offsetOf, pageOf } from '../../models/core/slab.js';
import { SnapshotReader, SnapshotWriter, decodeSnapshot } from '../../models/core/snapshot.js';

/** Reference ranking: score desc, then id asc. */
function bySort(scores: number[], k: number): { ids: number[]; scores: number[] } {
  const order = scores
    .map((s, id) => ({ s, id }))
    .filter((x) => !Number.isNaN(x.s))
    .sort((a, b) => b.s - a.s || a.id - b.id)
    .slice(0, k);
  return { ids: order.map((x) => x.id), scores: order.map((x) => x.s) };
}

describe('TopK heap', () => {
  it('matches a full sort for any scores (ties and duplicates included)', () => {
    fc.assert(
      fc.property(
        // small integer scores force many ties; the tie order must still match
        fc.array(
          fc.oneof(
            fc.integer({ min: -5, max: 5 }),
            fc.double({ noNaN: true, min: -1e6, max: 1e6 }),
          ),
          {
            maxLength: 200,
          },
        ),
        fc.integer({ min: 0, max: 30 }),
        (scores, k) => {
          const heap = new TopK(4);
          heap.reset(k);
          scores.forEach((s, id) => heap.offer(id, s));
          const ids = new Int32Array(k);
          const out = new Float64Array(k);
          const unordered = new Int32Array(k);
          const m = heap.copyTo(unordered, new Float64Array(k));
          const n = heap.drain(ids, out);
          expect(Array.from(unordered.subarray(0, m)).sort((a, b) => a - b)).toEqual(
            Array.from(ids.subarray(0, n)).sort((a, b) => a - b),
          );
          const ref = bySort(scores, k);
          expect(Array.from(ids.subarray(0, n))).toEqual(ref.ids);
          expect(Array.from(out.subarray(0, n))).toEqual(ref.scores);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is reusable after reset and never admits NaN', () => {
    const heap = new TopK(2);
    heap.reset(3);
    [5, Number.NaN, 1, 7].forEach((s, id) => heap.offer(id, s));
    const ids = new Int32Array(3);
    const sc = new Float64Array(3);
    expect(heap.drain(ids, sc)).toBe(3);
    expect(Array.from(ids)).toEqual([3, 0, 2]);
    heap.reset(1);
    heap.offer(9, 0.5);
    expect(heap.drain(ids, sc)).toBe(1);
    expect(ids[0]).toBe(9);
  });
});

describe('SparseRows top lists', () => {
  it('stay the exact top-m of each row under any sequence of non-negative adds and rescales', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ row: fc.nat(3), col: fc.nat(40), w: fc.integer({ min: 0, max: 4 }) }),
            fc.constant('scale' as const),
          ),
          { maxLength: 400 },
        ),
        fc.integer({ min: 1, max: 8 }),
        (ops, m) => {
          const rows = new SparseRows(m);
          rows.ensureRows(4);
          const ref = Array.from({ length: 4 }, () => new Map<number, number>());
          for (const op of ops) {
            if (op === 'scale') {
              // a power of two keeps float32 values exact, so the reference stays comparable
              rows.scale(0.5);
              for (const r of ref) for (const [c, v] of r) r.set(c, v * 0.5);
            } else {
              rows.add(op.row, op.col, op.w);
              ref[op.row].set(op.col, (ref[op.row].get(op.col) ?? 0) + op.w);
            }
          }
          for (let r = 0; r < 4; r++) {
            const want = [...ref[r]].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, m);
            const n = rows.top(r);
            const b = n > 0 ? rows.topBase(r) : 0;
            const got = Array.from({ length: n }, (_, t) => [
              rows.topInts(r)[b + t * TOP_STRIDE],
              rows.topFloats(r)[b + t * TOP_STRIDE + 1],
            ]);
            expect(got).toEqual(want);
            for (const [c, v] of ref[r]) expect(rows.get(r, c)).toBe(v);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('SparseRows pair bound (issue 11)', () => {
  it('holds at most maxCols pairs per row, keeps its top list exact over the pairs it holds, and drops only pairs lighter than every kept one outside the top list', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ row: fc.nat(2), col: fc.nat(300), w: fc.integer({ min: 0, max: 9 }) }),
            fc.constant('scale' as const),
          ),
          { maxLength: 1500 },
        ),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 2, max: 5 }),
        (ops, m, k) => {
          const maxCols = k * m + 3;
          const rows = new SparseRows(m, maxCols);
          rows.ensureRows(3);
          // brute force: every row's pairs with the same bound, pruned by sorting all of them
          const ref = Array.from({ length: 3 }, () => new Map<number, number>());
          const topOf = (r: Map<number, number>): [number, number][] =>
            [...r].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, m);
          for (const op of ops) {
            if (op === 'scale') {
              rows.scale(0.5);
              for (const r of ref) for (const [c, v] of r) r.set(c, v * 0.5);
              continue;
            }
            const r = ref[op.row];
            if (!r.has(op.col) && r.size >= maxCols) {
              const top = new Set(topOf(r).map(([c]) => c));
              const others = [...r].filter(([c]) => !top.has(c)).map(([, v]) => v);
              others.sort((a, b) => b - a);
              const keep = (maxCols >> 1) - top.size;
              const cut = keep > 0 ? others[keep - 1] : Infinity;
              for (const [c, v] of [...r]) if (!top.has(c) && v < cut) r.delete(c);
              // ties at the cut are kept in table order: only their number is checked
              const tied = [...r].filter(([c, v]) => !top.has(c) && v === cut);
              const extra = r.size - (maxCols >> 1);
              expect(extra).toBeLessThanOrEqual(tied.length);
              for (const [c] of tied) {
                if (rows.get(op.row, c) === 0) r.delete(c);
              }
            }
            rows.add(op.row, op.col, op.w);
            r.set(op.col, (r.get(op.col) ?? 0) + op.w);
          }
          for (let r = 0; r < 3; r++) {
            expect(ref[r].size).toBeLessThanOrEqual(maxCols);
            const n = rows.top(r);
            const b = n > 0 ? rows.topBase(r) : 0;
            const got = Array.from({ length: n }, (_, t) => [
              rows.topInts(r)[b + t * TOP_STRIDE],
              rows.topFloats(r)[b + t * TOP_STRIDE + 1],
            ]);
            expect(got).toEqual(topOf(ref[r]));
            for (const [c, v] of ref[r]) expect(rows.get(r, c)).toBe(v);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses a bound below twice the top list', () => {
    expect(() => new SparseRows(10, 19)).toThrow(RangeError);
    expect(() => new SparseRows(10, 20)).not.toThrow();
  });
});

describe('SparseRows in a slab (issue 12)', () => {
  it('keeps rows apart through growth, a row larger than a page share, and a save/load', () => {
    // no pair bound here: the point is a row far larger than a shared page's regions
    const rows = new SparseRows(5, 1 << 20);
    rows.ensureRows(3);
    const ref = Array.from({ length: 3 }, () => new Map<number, number>());
    // row 1 outgrows the shared pages (a table of 8,192 slots gets a page of its own) while
    // rows 0 and 2 grow through the sizes whose freed regions row 2 then reuses
    for (let c = 0; c < 7_000; c++) {
      const r = c % 50 === 0 ? 0 : c % 97 === 0 ? 2 : 1;
      const w = (c % 7) + 1;
      rows.add(r, c, w);
      ref[r].set(c, (ref[r].get(c) ?? 0) + w);
    }
    const check = (m: SparseRows): void => {
      for (let r = 0; r < 3; r++) {
        for (const [c, v] of ref[r]) expect(m.get(r, c)).toBe(v);
        const want = [...ref[r]].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 5);
        const b = m.topBase(r);
        const got = Array.from({ length: m.top(r) }, (_, t) => [
          m.topInts(r)[b + t * TOP_STRIDE],
          m.topFloats(r)[b + t * TOP_STRIDE + 1],
        ]);
        expect(got).toEqual(want);
      }
    };
    check(rows);
    const encode = (m: SparseRows): Uint8Array => {
      const w = new SnapshotWriter();
      m.save(w);
      return w.encode();
    };
    const back = new SparseRows(5, 1 << 20);
    back.load(new SnapshotReader(decodeSnapshot(encode(rows))));
    check(back);
    // the restored rows keep learning like the original
    for (const m of [rows, back]) m.add(2, 3, 100);
    ref[2].set(3, (ref[2].get(3) ?? 0) + 100);
    check(rows);
    check(back);
    expect(encode(back)).toEqual(encode(rows));
  });
});

describe('Slab', () => {
  it('reuses a freed region of the same size and gives big regions pages of their own', () => {
    const slab = new Slab();
    const a = slab.alloc(24);
    const b = slab.alloc(24);
    expect(b).not.toBe(a);
    slab.release(a, 24);
    expect(slab.alloc(12)).not.toBe(a);
    expect(slab.alloc(24)).toBe(a);
    const big = slab.alloc(100_000);
    expect(offsetOf(big)).toBe(0);
    expect(slab.i[pageOf(big)].length).toBe(100_000);
    slab.release(big, 100_000);
    expect(slab.i[pageOf(big)].length).toBe(0);
    // a released page's number is used again
    expect(pageOf(slab.alloc(50_000))).toBe(pageOf(big));
  });
});
