import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PurchaseHistory } from '../../models/purchase-history.js';
import type { ClickEvent } from '../../models/event.js';

const purchase = (userId: string, itemId: string): ClickEvent => ({
  eventId: `${userId}-${itemId}`,
  userId,
  itemId,
  type: 'purchase',
  ts: 0,
});

/** The reference: a Set per user in least-recently-used order, as before the one-item form. */
class Reference {
  readonly users = new Map<string, Set<string>>();
  constructor(
    private readonly cap: number,
    private readonly perUser: number,
  ) {}
  private touch(u: string): Set<string> {
    const s = this.users.get(u) ?? new Set<string>();
    this.users.delete(u);
    this.users.set(u, s);
    while (this.users.size > this.cap) this.users.delete(this.users.keys().next().value as string);
    return s;
  }
  add(u: string, i: string): boolean {
    const s = this.touch(u);
    if (s.has(i)) return false;
    s.add(i);
    if (s.size > this.perUser) s.delete(s.values().next().value as string);
    return true;
  }
  hydrate(u: string, items: string[]): void {
    this.touch(u);
    for (const i of items) this.add(u, i);
  }
}

describe('PurchaseHistory: one item inline, a Set from the second', () => {
  it('records, hydrates, forgets and erases as a Set per user does', () => {
    const user = fc.constantFrom('a', 'b', 'c', 'd');
    const item = fc.constantFrom('x', 'y', 'z', 'w');
    const op = fc.oneof(
      fc.record({ kind: fc.constant('buy' as const), u: user, i: item }),
      fc.record({
        kind: fc.constant('hydrate' as const),
        u: user,
        items: fc.array(item, { maxLength: 3 }),
      }),
      fc.record({ kind: fc.constant('erase' as const), u: user }),
    );
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        (ops, cap, perUser) => {
          const h = new PurchaseHistory({ users: cap, perUser });
          const ref = new Reference(cap, perUser);
          for (const o of ops) {
            if (o.kind === 'buy') expect(h.record(purchase(o.u, o.i))).toBe(ref.add(o.u, o.i));
            else if (o.kind === 'hydrate') {
              h.hydrate(o.u, o.items);
              ref.hydrate(o.u, o.items);
            } else expect(h.erase(o.u)).toBe(ref.users.delete(o.u));
            expect(h.users).toBe(ref.users.size);
            for (const u of ['a', 'b', 'c', 'd']) {
              const got = h.boughtBy(u);
              const want = ref.users.get(u) ?? new Set<string>();
              expect([...got]).toEqual([...want]);
              expect(got.size).toBe(want.size);
              for (const i of ['x', 'y', 'z', 'w']) expect(got.has(i)).toBe(want.has(i));
              expect(h.has(u)).toBe(ref.users.has(u));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
