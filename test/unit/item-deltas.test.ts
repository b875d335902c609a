import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type ClickEvent } from '../../models/event.js';
import { HybridRecommender } from '../../models/hybrid.js';
import { decodeItemDeltas, encodeItemDeltas } from '../../models/core/item-delta-codec.js';
import { SCALARS, itemPartition, type ItemDeltaRecord } from '../../models/core/item-deltas.js';
import { isItemStateModel } from '../../models/hybrid-replica.js';

/** Seeded clickstream: 40 users browsing 4 categories, every event type, 10 min apart. */
function stream(count: number, seed: number): ClickEvent[] {
  let s = seed;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const cats = ['HOME', 'GARDEN', 'TOYS', 'KITCHEN'];
  return Array.from({ length: count }, (_, n) => {
    const u = Math.floor(rnd() * 40);
    const cat = (u + (rnd() < 0.2 ? 1 : 0)) % cats.length;
    const item = 10_000 + cat * 100 + Math.floor(rnd() * rnd() * 60);
    const type = rnd() < 0.5 ? 'purchase' : EVENT_TYPES[Math.floor(rnd() * EVENT_TYPES.length)];
    return {
      eventId: `e${n}`,
      ts: Date.UTC(2024, 0, 1) + n * 600_000,
      userId: `u${u}`,
      itemId: String(item),
      type,
      category: cats[cat],
    };
  });
}

/** The first wire format (records of an older build still in the topic), written by hand. */
function encodeV1(r: ItemDeltaRecord): Uint8Array {
  const names = r.items.map((s) => new TextEncoder().encode(s));
  const n = r.items.length;
  const scalars = new Float64Array(n * SCALARS);
  r.scalarItems.forEach((k, t) => {
    for (let x = 0; x < SCALARS; x++) scalars[k * SCALARS + x] = r.scalars[t * SCALARS + x] ?? 0;
  });
  const lengths = Uint32Array.from(names, (b) => b.byteLength);
  const numeric: ArrayBufferView[] = [scalars, r.factors, r.factorItems, r.pairRows, r.pairCols];
  numeric.push(r.pairValues, lengths);
  const parts = numeric
    .map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .concat(names);
  const out = new Uint8Array(48 + parts.reduce((s, b) => s + b.byteLength, 0));
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x31444952, true);
  v.setUint32(4, r.partition, true);
  v.setFloat64(8, r.ref, true);
  v.setUint32(16, r.events, true);
  v.setUint32(20, n, true);
  v.setUint32(24, r.dim, true);
  v.setUint32(28, r.factorItems.length, true);
  v.setUint32(32, r.pairRows.length, true);
  v.setFloat64(40, r.last, true);
  let at = 48;
  for (const b of parts) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

const owner = (e: ClickEvent): number => Number(e.userId.slice(1)) % 2;

/** Two instances, each learning its users' events and applying the other's deltas per batch. */
function pair(events: ClickEvent[], batch: number): HybridRecommender[] {
  const inst = [new HybridRecommender(), new HybridRecommender()];
  for (const m of inst) m.recordItemDeltas();
  for (let at = 0; at < events.length; at += batch) {
    for (const e of events.slice(at, at + batch)) inst[owner(e)]?.learn(e);
    const out = inst.map((m) => m.takeItemDeltas(3).map((r) => encodeItemDeltas(r)));
    out.forEach((records, from) => {
      for (const bytes of records) {
        const r = decodeItemDeltas(bytes);
        expect(r).toBeDefined();
        if (r) inst[1 - from]?.applyItemDeltas(r);
      }
    });
  }
  return inst;
}

/** A per-item array as name -> value / max (units differ with each process's clock origin). */
function normalised(h: HybridRecommender, values: ArrayLike<number>): Map<string, number> {
  let max = 0;
  for (let i = 0; i < h.ctx.items.size; i++) max = Math.max(max, values[i] ?? 0);
  const out = new Map<string, number>();
  for (let i = 0; i < h.ctx.items.size; i++) out.set(h.ctx.items.name(i), (values[i] ?? 0) / max);
  return out;
}

function expectSameCounters(a: Map<string, number>, b: Map<string, number>): void {
  expect(a.size).toBe(b.size);
  for (const [item, v] of b) expect(a.get(item)).toBeCloseTo(v, 5);
}

describe('item deltas', () => {
  it('round-trip through the binary codec, and reject what is not a record', () => {
    const m = new HybridRecommender();
    m.recordItemDeltas();
    for (const e of stream(300, 5)) m.learn(e);
    const records = m.takeItemDeltas(4);
    expect(records.length).toBeGreaterThan(1);
    for (const r of records) {
      const back = decodeItemDeltas(encodeItemDeltas(r));
      // ASCII ids also come as their bytes (for the receiver's ItemNameCache)
      expect(back?.asciiNames?.lengths.length).toBe(r.items.length);
      expect({ ...back, asciiNames: undefined }).toEqual(r);
      for (const k of r.scalarItems)
        expect(itemPartition(r.items[k] as string, 4)).toBe(r.partition);
      // version 1 (float64 counters for every item) still decodes, as the same changes
      const v1 = decodeItemDeltas(encodeV1(r));
      expect(v1?.items).toEqual(r.items);
      expect(v1?.pairValues).toEqual(r.pairValues);
      expect(v1?.factors).toEqual(r.factors);
      r.scalarItems.forEach((k, t) => {
        const got = v1?.scalars.subarray(k * SCALARS, (k + 1) * SCALARS);
        expect(got).toEqual(r.scalars.subarray(t * SCALARS, (t + 1) * SCALARS));
      });
    }
    expect(m.takeItemDeltas(4)).toEqual([]);
    expect(decodeItemDeltas(new TextEncoder().encode('{"not":"deltas"}'))).toBeUndefined();
    const cut = encodeItemDeltas(records[0]!);
    expect(decodeItemDeltas(cut.subarray(0, cut.byteLength - 3))).toBeUndefined();
    expect(isItemStateModel(m)).toBe(true);
  });

  it('two instances exchanging deltas hold the counters one instance learns from every event', () => {
    const events = stream(4000, 7);
    const [a, b] = pair(events, 150);
    const one = new HybridRecommender();
    for (const e of events) one.learn(e);
    for (const m of [a!, b!]) {
      expectSameCounters(normalised(m, m.knn.pop), normalised(one, one.knn.pop));
      expectSameCounters(normalised(m, m.trending!.score), normalised(one, one.trending!.score));
      expectSameCounters(normalised(m, m.popular!.pop), normalised(one, one.popular!.pop));
    }
    // Co-visitation rows too: a user's item-kNN list (their history is the owner's, the rows
    // everybody's) is the one-instance list, up to float rounding of near ties.
    for (let u = 0; u < 40; u++) {
      const user = `u${u}`;
      const mine = (u % 2 === 0 ? a : b)!;
      const got = mine.knn.recommend(user, 10, new Set());
      const want = one.knn.recommend(user, 10, new Set());
      const scale = (xs: typeof got): number[] => xs.map((x) => x.score / (xs[0]?.score ?? 1));
      expect(scale(got).length).toBe(scale(want).length);
      scale(got).forEach((v, t) => expect(v).toBeCloseTo(scale(want)[t] ?? 0, 4));
      const same = got.filter((x) => want.some((y) => y.itemId === x.itemId)).length;
      expect(same).toBeGreaterThanOrEqual(Math.min(9, want.length));
    }
  });

  it('an instance that only applies deltas holds the learner item factors and biases', () => {
    const learner = new HybridRecommender();
    const replica = new HybridRecommender();
    learner.recordItemDeltas();
    replica.recordItemDeltas();
    const events = stream(2000, 3);
    for (let at = 0; at < events.length; at += 100) {
      for (const e of events.slice(at, at + 100)) learner.learn(e);
      for (const r of learner.takeItemDeltas(2)) replica.applyItemDeltas(r);
    }
    const mf = learner.mf!;
    const rmf = replica.mf!;
    expect(replica.ctx.items.size).toBe(learner.ctx.items.size);
    for (let i = 0; i < learner.ctx.items.size; i++) {
      const j = replica.ctx.items.get(learner.ctx.items.name(i));
      expect(rmf.biasOf(j)).toBeCloseTo(mf.biasOf(i), 4);
      for (let d = 0; d < mf.o.dim; d++)
        expect(rmf.Q.data[j * mf.o.dim + d]).toBeCloseTo(mf.Q.data[i * mf.o.dim + d] ?? 0, 4);
    }
    // nothing the replica applied was recorded again
    expect(replica.takeItemDeltas(2)).toEqual([]);
  });
});

/** n instances (users by number mod n), each applying the others' records after every batch. */
function group(
  events: ClickEvent[],
  n: number,
  batch: number,
  sources: number,
): HybridRecommender[] {
  const inst = Array.from({ length: n }, () => new HybridRecommender());
  for (const m of inst) m.recordItemDeltas(sources);
  for (let at = 0; at < events.length; at += batch * n) {
    for (const e of events.slice(at, at + batch * n)) inst[Number(e.userId.slice(1)) % n]?.learn(e);
    const out = inst.map((m) => m.takeItemDeltas(n));
    out.forEach((records, from) => {
      for (const r of records) inst.forEach((m, to) => to !== from && m.applyItemDeltas(r));
    });
  }
  return inst;
}

function largestFactor(h: HybridRecommender): number {
  const q = h.mf!.Q.data.subarray(0, h.ctx.items.size * h.mf!.o.dim);
  let top = 0;
  for (const v of q)
    top = Number.isFinite(v) ? Math.max(top, Math.abs(v)) : Number.POSITIVE_INFINITY;
  return top;
}

/** Seeded shop-like stream: 2,000 users, 1,000 items with a steep popularity curve, 100 ms apart. */
function shop(count: number, seed: number): ClickEvent[] {
  let s = seed;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: count }, (_, n) => {
    const item = Math.floor(1000 * rnd() ** 3);
    const r = rnd();
    const type = r < 0.6 ? 'view' : r < 0.8 ? 'click' : r < 0.93 ? 'add_to_cart' : 'purchase';
    return {
      eventId: `e${n}`,
      ts: Date.UTC(2024, 0, 1) + n * 100,
      userId: `u${Math.floor(rnd() * 2000)}`,
      itemId: `i${item}`,
      type,
      category: `C${item % 4}`,
    };
  });
}

describe('remote factor steps', () => {
  it('six instances stepping the same hot items stay as bounded as one instance', () => {
    const events = shop(12_000, 11);
    const one = new HybridRecommender();
    for (const e of events) one.learn(e);
    const bound = largestFactor(one);
    expect(bound).toBeGreaterThan(0);
    expect(bound).toBeLessThan(1);
    // Summed at full weight, six stale steps per hot item per batch diverge; averaged they do not.
    const summed = group(events, 6, 100, 1);
    expect(Math.max(...summed.map(largestFactor))).toBeGreaterThan(10 * bound);
    for (const m of group(events, 6, 100, 6)) expect(largestFactor(m)).toBeLessThan(2 * bound);
  });

  it('a record with a NaN factor row leaves the item as it was', () => {
    const learner = new HybridRecommender();
    const replica = new HybridRecommender();
    learner.recordItemDeltas();
    replica.recordItemDeltas();
    for (const e of stream(300, 5)) learner.learn(e);
    const [first, ...rest] = learner.takeItemDeltas(1);
    expect(rest).toEqual([]);
    const factors = Float32Array.from(first!.factors);
    factors[0] = Number.NaN;
    replica.applyItemDeltas({ ...first!, factors });
    expect(largestFactor(replica)).toBeLessThan(1);
    // the same record without that row: every factor the same, the bad item at its seed
    const without = new HybridRecommender();
    without.recordItemDeltas();
    const dim1 = without.mf!.o.dim + 1;
    without.applyItemDeltas({
      ...first!,
      factorItems: first!.factorItems.subarray(1),
      factors: first!.factors.subarray(dim1),
    });
    const bad = first!.items[first!.factorItems[0]!]!;
    const row = (h: HybridRecommender, item: string): number[] => {
      const i = h.ctx.items.get(item);
      return Array.from(h.mf!.Q.data.subarray(i * (dim1 - 1), (i + 1) * (dim1 - 1)));
    };
    expect(row(replica, bad)).toEqual(row(without, bad));
    expect(row(replica, first!.items[first!.factorItems[1]!]!)).toEqual(
      row(without, first!.items[first!.factorItems[1]!]!),
    );
  });
});

describe('user side only', () => {
  it('learnUser plus the owner deltas gives the owner lists, and records nothing', () => {
    const events = stream(3000, 11);
    const owner = new HybridRecommender();
    owner.recordItemDeltas();
    const restored = new HybridRecommender();
    restored.recordItemDeltas();
    for (let at = 0; at < events.length; at += 200) {
      const slice = events.slice(at, at + 200);
      for (const e of slice) owner.learn(e);
      // the new owner replays the partition for its users and gets the item side as deltas
      for (const e of slice) restored.learnUser(e);
      expect(restored.takeItemDeltas(2)).toEqual([]);
      for (const r of owner.takeItemDeltas(2)) restored.applyItemDeltas(r);
    }
    expectSameCounters(normalised(restored, restored.knn.pop), normalised(owner, owner.knn.pop));
    for (let u = 0; u < 40; u++) {
      const got = restored.knn.recommend(`u${u}`, 10, new Set());
      const want = owner.knn.recommend(`u${u}`, 10, new Set());
      expect(got.map((x) => x.itemId).slice(0, 5)).toEqual(want.map((x) => x.itemId).slice(0, 5));
    }
  });
});
