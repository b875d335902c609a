import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PushUsers } from '../../push/push-users.js';
import { decodeUser, encodeUser } from '../../push/user-codec.js';
import { USER_BOUNDS, UserPushState } from '../../push/user-state.js';

/** The `decided` ring as a plain list, as UserPushState.seenKey kept it before the columns. */
class ListRing {
  ring: number[] | undefined;
  next = 0;
  seenKey(key: string, at: number, horizonMs: number): boolean {
    const h = parseInt(key.slice(0, 13), 16);
    let ring = this.ring;
    if (ring)
      for (let i = 0; i < ring.length; i += 2)
        if (ring[i] === h && (ring[i + 1] as number) >= at - horizonMs) return true;
    if (!ring || (this.next === ring.length / 2 && ring.length / 2 < USER_BOUNDS.decided)) {
      const grown = new Array<number>(
        Math.min(2 * USER_BOUNDS.decided, Math.max(4, 2 * (ring?.length ?? 0))),
      ).fill(NaN);
      if (ring) for (let j = 0; j < ring.length; j++) grown[j] = ring[j] as number;
      this.ring = ring = grown;
    }
    const slots = ring.length / 2;
    const i = this.next % slots;
    ring[2 * i] = h;
    ring[2 * i + 1] = at;
    this.next = (i + 1) % USER_BOUNDS.decided;
    return false;
  }
}

const key = (k: number): string => k.toString(16).padStart(13, '0') + 'f'.repeat(19);

describe('push user scalars in columns', () => {
  it('the decided ring answers and encodes as the plain list did, across growth and restores', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ k: fc.nat(90), dt: fc.nat(50), restore: fc.boolean() }), {
          maxLength: 300,
        }),
        (ops) => {
          const users = new PushUsers(4, 1e9, () => undefined);
          const ref = new ListRing();
          let t = 0;
          for (const o of ops) {
            t += o.dt;
            const s = users.touch('u', t);
            expect(s.seenKey(key(o.k), t, 400)).toBe(ref.seenKey(key(o.k), t, 400));
            expect(s.decided).toEqual(ref.ring);
            expect(s.decidedNext).toBe(ref.next);
            // a restore goes through the bytes and a state of its own, then back into a slot
            if (o.restore) users.set('u', decodeUser(encodeUser(s)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a dropped state keeps its values; its slot goes to the next user, zeroed', () => {
    const users = new PushUsers(1, 1e9, () => undefined);
    const a = users.touch('a', 5);
    a.hoursAt = 7;
    a.lastVariant = 2;
    a.holdoutFlag = 1;
    a.seenKey(key(1), 5, 10);
    const b = users.touch('b', 9);
    expect(users.get('a')).toBeUndefined();
    expect([a.lastSeen, a.hoursAt, a.lastVariant, a.holdoutFlag, a.decidedNext]).toEqual([
      5, 7, 2, 1, 1,
    ]);
    expect(a.decided?.slice(0, 2)).toEqual([1, 5]);
    expect([b.lastSeen, b.hoursAt, b.lastVariant, b.holdoutFlag, b.decidedNext]).toEqual([
      9, 0, -1, -1, 0,
    ]);
    expect(b.decided).toBeUndefined();
    b.lastSeen = 11;
    expect(a.lastSeen).toBe(5);
  });

  it('a state of its own keeps its values when a PushUsers adopts it', () => {
    const s = new UserPushState();
    s.lastSeen = 3;
    s.lastVariantTs = 4;
    s.decided = [1, 2, 3, 4, 5, 6];
    const users = new PushUsers(2, 1e9, () => undefined);
    users.set('x', s);
    const back = users.get('x');
    expect(back).toBe(s);
    expect([s.lastSeen, s.lastVariantTs, s.decided]).toEqual([3, 4, [1, 2, 3, 4, 5, 6]]);
  });
});
