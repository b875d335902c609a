import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idSetAdd, idSetDelete, idSetOldest, idSetSize, type IdSet } from '../../push/id-set.js';

describe('IdSet', () => {
  it('orders, adds, deletes and reports the oldest as a Set does, across the switch to a Set', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ add: fc.boolean(), id: fc.nat(40) }), { maxLength: 200 }),
        (ops) => {
          let s: IdSet = [];
          const ref = new Set<string>();
          for (const o of ops) {
            const id = `u${o.id}`;
            if (o.add) {
              s = idSetAdd(s, id);
              ref.add(id);
            } else expect(idSetDelete(s, id)).toBe(ref.delete(id));
            expect([...s]).toEqual([...ref]);
            expect(idSetSize(s)).toBe(ref.size);
            expect(idSetOldest(s)).toBe(ref.values().next().value);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
