import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PushUsers } from '../../push/push-users.js';
import { UserPushState } from '../../push/user-state.js';

type Op =
  | { op: 'touch'; u: number; ts: number }
  | { op: 'set'; u: number }
  | { op: 'delete'; u: number }
  | { op: 'sweep'; wm: number }
  | { op: 'walk'; n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ op: fc.constant('touch' as const), u: fc.nat(12), ts: fc.nat(200) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('set' as const), u: fc.nat(12) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), u: fc.nat(12) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('sweep' as const), wm: fc.nat(300) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('walk' as const), n: fc.nat(5) }) },
);

/**
 * What PushUsers did before its recency list (issue 12): a Map in insertion order, a touch a
 * delete and re-insert, the tidy-up walk a Map iterator kept across calls.
 */
class MapUsers {
  readonly users = new Map<string, UserPushState>();
  readonly dropped: string[] = [];
  private it: Iterator<[string, UserPushState]> | undefined;
  constructor(
    private readonly max: number,
    private readonly ttl: number,
  ) {}
  touch(u: string, ts: number): void {
    let s = this.users.get(u);
    if (s) this.users.delete(u);
    else {
      s = new UserPushState();
      if (this.users.size >= this.max) this.delete(this.users.keys().next().value as string);
    }
    this.users.set(u, s);
    if (ts > s.lastSeen) s.lastSeen = ts;
  }
  set(u: string, s: UserPushState): void {
    this.delete(u);
    if (this.users.size >= this.max) this.delete(this.users.keys().next().value as string);
    this.users.set(u, s);
  }
  delete(u: string): void {
    if (this.users.delete(u)) this.dropped.push(u);
  }
  sweep(wm: number): void {
    for (const [u, s] of this.users) {
      if (s.lastSeen >= wm - this.ttl) break;
      this.delete(u);
    }
  }
  walk(): string | undefined {
    this.it ??= this.users.entries();
    const n = this.it.next();
    if (n.done) {
      this.it = undefined;
      return undefined;
    }
    return n.value[0];
  }
}

describe('PushUsers recency list', () => {
  it('orders, evicts, sweeps and walks as the Map in insertion order did', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 300 }),
        fc.integer({ min: 1, max: 10 }),
        (ops, max) => {
          const dropped: string[] = [];
          const users = new PushUsers(max, 50, (u) => dropped.push(u));
          const ref = new MapUsers(max, 50);
          for (const o of ops) {
            if (o.op === 'touch') {
              users.touch(`u${o.u}`, o.ts);
              ref.touch(`u${o.u}`, o.ts);
            } else if (o.op === 'set') {
              const s = new UserPushState();
              users.set(`u${o.u}`, s);
              ref.set(`u${o.u}`, s);
            } else if (o.op === 'delete') {
              users.delete(`u${o.u}`);
              ref.delete(`u${o.u}`);
            } else if (o.op === 'sweep') {
              users.sweep(o.wm);
              ref.sweep(o.wm);
            } else
              for (let k = 0; k < o.n; k++) {
                const a = users.tidyNext();
                const b = ref.walk();
                expect(a === undefined ? undefined : a.lruId).toBe(b);
              }
            expect([...users.entries()].map(([u]) => u)).toEqual([...ref.users.keys()]);
            expect(users.size).toBe(ref.users.size);
            expect(dropped).toEqual(ref.dropped);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
