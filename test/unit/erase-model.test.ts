import { describe, expect, it } from 'vitest';
import { ERASED, IdMap } from '../../models/core/id-map.js';
import { EVENT_TYPES, type ClickEvent } from '../../models/event.js';
import { PurchaseHistory } from '../../models/purchase-history.js';
import { RECOMMENDER_NAMES, createRecommender } from '../../models/registry.js';

/** Deterministic stream over users u0..u19 and a victim whose id is easy to find in bytes. */
const VICTIM = 'victim-7f3a9c';
function stream(count: number, seed: number): ClickEvent[] {
  let s = seed;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const out: ClickEvent[] = [];
  for (let n = 0; n < count; n++) {
    const u = Math.floor(rnd() * 21);
    const cat = u % 4;
    const item = 10_000 + cat * 100 + Math.floor(rnd() * 30);
    out.push({
      eventId: `e${n}`,
      ts: Date.UTC(2024, 0, 1) + n * 600_000,
      userId: u === 20 ? VICTIM : `u${u}`,
      itemId: String(item),
      type: rnd() < 0.4 ? 'purchase' : EVENT_TYPES[Math.floor(rnd() * 4)],
      category: ['HOME', 'GARDEN', 'TOYS', 'KITCHEN'][cat],
      props: { title: `THING ${item % 7}` },
    });
  }
  return out;
}

const contains = (bytes: Uint8Array, s: string): boolean =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(Buffer.from(s, 'utf8'));

describe('IdMap.erase', () => {
  it('resets the row through the hooks, hides the name and reuses the row', () => {
    const m = new IdMap();
    const reset: number[] = [];
    m.onRecycle((i) => reset.push(i));
    const a = m.intern('a');
    m.intern('b');
    expect(m.erase('a')).toBe(true);
    expect(m.erase('a')).toBe(false);
    expect(reset).toEqual([a]);
    expect(m.get('a')).toBe(-1);
    expect(m.toArray().includes('a')).toBe(false);
    expect(m.name(a).startsWith(ERASED)).toBe(true);
    expect(m.intern('c')).toBe(a);
    expect(m.size).toBe(2);
    expect(m.get(m.name(a))).toBe(a);
  });

  it('a loaded snapshot reuses the rows erased before it was taken', () => {
    const m = new IdMap();
    for (const id of ['a', 'b', 'c']) m.intern(id);
    m.erase('b');
    const n = new IdMap();
    n.load(m.toArray());
    expect(n.intern('d')).toBe(1);
    expect(n.get('b')).toBe(-1);
  });

  it('a recycling map still recycles after an erase', () => {
    const m = new IdMap();
    m.setLimit(2, 'recycle');
    m.intern('a');
    m.intern('b');
    m.erase('a');
    expect(m.intern('c')).toBe(0);
    const d = m.intern('d');
    expect(d === 0 || d === 1).toBe(true);
    expect(m.size).toBe(2);
  });
});

describe.each(RECOMMENDER_NAMES)('forgetting a user in model %s', (name) => {
  it('leaves no row, history or name behind, in memory or in snapshots', () => {
    const rec = createRecommender(name);
    const events = stream(2500, 5);
    for (const e of events) rec.learn(e);
    const none = new Set<string>();
    expect(contains(rec.snapshot(), VICTIM)).toBe(true);

    expect(rec.ctx.forgetUser(VICTIM)).toBe(true);
    expect(rec.ctx.users.get(VICTIM)).toBe(-1);
    const bytes = rec.snapshot();
    expect(contains(bytes, VICTIM)).toBe(false);
    // with no row the victim is answered like a user the model never saw
    const asNew = rec.recommend(VICTIM, 10, none).map((s) => s.itemId);
    expect(asNew).toEqual(rec.recommend('never-seen', 10, none).map((s) => s.itemId));

    // restored, the model still knows nothing of the victim, and the row goes to a new user
    const restored = createRecommender(name);
    restored.restore(bytes);
    expect(restored.ctx.users.get(VICTIM)).toBe(-1);
    const before = restored.ctx.users.size;
    restored.learn({ ...(events[0] as ClickEvent), userId: 'newcomer', eventId: 'x' });
    expect(restored.ctx.users.size).toBe(before);
    expect(restored.recommend('u1', 10, none).length).toBeGreaterThan(0);
  });
});

describe('PurchaseHistory.erase', () => {
  it('drops the purchases without reporting an eviction', () => {
    const forgot: string[] = [];
    const h = new PurchaseHistory({ onForget: (u) => forgot.push(u) });
    h.record({ ...(stream(1, 1)[0] as ClickEvent), userId: VICTIM, type: 'purchase' });
    expect(h.boughtBy(VICTIM).size).toBe(1);
    expect(h.erase(VICTIM)).toBe(true);
    expect(h.boughtBy(VICTIM).size).toBe(0);
    expect(forgot).toEqual([]);
  });
});
