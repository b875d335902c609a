import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UserHistory } from '../../models/core/history.js';
import { SnapshotReader, SnapshotWriter } from '../../models/core/snapshot.js';

/** The layout before issue 12's regions: `size` slots per user, newest first. */
class DenseHistory {
  readonly rows: { item: number; ts: number; type: number }[][] = [];
  constructor(readonly size: number) {}
  push(u: number, item: number, ts: number, type: number): void {
    const row = (this.rows[u] ??= []);
    const at = row.findIndex((e) => e.item === item);
    if (at >= 0) row.splice(at, 1);
    else if (row.length === this.size) row.pop();
    row.unshift({ item, ts, type });
  }
  forget(u: number): void {
    this.rows[u] = [];
  }
}

const window = (h: UserHistory, u: number): { item: number; ts: number; type: number }[] => {
  const out = [];
  for (let p = 0; p < (h.len[u] ?? 0); p++) {
    const e = h.start(u) + p;
    out.push({ item: h.items[e] as number, ts: h.ts[e] as number, type: h.types[e] as number });
  }
  return out;
};

type Op =
  { op: 'push'; u: number; i: number; type: number } | { op: 'forget'; u: number } | { op: 'snap' };

describe('UserHistory regions', () => {
  it('keeps every window as the dense layout did, across forgets and a snapshot round trip', () => {
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 20,
        arbitrary: fc.record({
          op: fc.constant('push' as const),
          u: fc.nat(15),
          i: fc.nat(40),
          type: fc.nat(4),
        }),
      },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('forget' as const), u: fc.nat(15) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('snap' as const) }) },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 25 }),
        fc.array(opArb, { maxLength: 400 }),
        (size, ops) => {
          let h = new UserHistory(size);
          const ref = new DenseHistory(size);
          h.ensureUsers(16);
          let t = 0;
          for (const o of ops) {
            if (o.op === 'push') {
              h.push(o.u, o.i, ++t * 1000.5, o.type);
              ref.push(o.u, o.i, t * 1000.5, o.type);
            } else if (o.op === 'forget') {
              h.forget(o.u);
              ref.forget(o.u);
            } else {
              const w = new SnapshotWriter();
              h.save(w, 16);
              const bytes = w.data.arrays;
              expect((bytes.items as Int32Array).length).toBe(16 * size);
              h = new UserHistory(size);
              h.load(new SnapshotReader(w.data), 16);
            }
          }
          for (let u = 0; u < 16; u++) {
            expect(window(h, u)).toEqual(ref.rows[u] ?? []);
            for (let i = 0; i <= 40; i++)
              expect(h.indexOf(u, i)).toBe((ref.rows[u] ?? []).findIndex((e) => e.item === i));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
