import { describe, expect, it } from 'vitest';
import { TopK } from '../../models/core/topk.js';
import { MfRecommender } from '../../models/mf.js';
import { exactSearchInto } from '../../models/retrieval/exact.js';
import { IvfIndex, type IvfOptions } from '../../models/retrieval/ivf-index.js';
import { MfRetriever } from '../../models/retrieval/mf-retriever.js';
import { mulberry32 } from '../support/synthetic-stream.js';

const DIM = 16;

/** Clustered rows with varying norms, like learned item factors. */
function clustered(n: number, seed = 1): Float32Array {
  const rnd = mulberry32(seed);
  const gauss = (): number => {
    const u = Math.max(rnd(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
  };
  const centres = Array.from({ length: 40 }, () => Float32Array.from({ length: DIM }, gauss));
  const data = new Float32Array(n * DIM);
  for (let i = 0; i < n; i++) {
    const c = centres[Math.floor(rnd() * centres.length)];
    const scale = Math.exp(0.25 * gauss());
    for (let d = 0; d < DIM; d++) data[i * DIM + d] = scale * (c[d] + 0.4 * gauss());
  }
  return data;
}

function exactTop(data: Float32Array, n: number, q: Float32Array, k: number): number[] {
  const h = new TopK(k);
  h.reset(k);
  exactSearchInto(data, n, DIM, q, 0, h);
  const ids = new Int32Array(k);
  const sc = new Float64Array(k);
  return Array.from(ids.subarray(0, h.drain(ids, sc)));
}

function ivfTop(index: IvfIndex, q: Float32Array, k: number, nprobe?: number): number[] {
  const ids = new Int32Array(k);
  const sc = new Float64Array(k);
  return Array.from(ids.subarray(0, index.search(q, k, ids, sc, nprobe)));
}

const queries = (m: number, seed = 9): Float32Array[] => {
  const rnd = mulberry32(seed);
  return Array.from({ length: m }, () => Float32Array.from({ length: DIM }, () => rnd() * 2 - 1));
};

describe.each<[string, IvfOptions]>([
  ['flat', { storage: 'flat' }],
  ['pq', { storage: 'pq', pqSubspaces: 4, rerank: 400 }],
  ['sq8', { storage: 'sq8', rerank: 400 }],
  ['flat, no sphere coordinate', { storage: 'flat', mips: false }],
])('IvfIndex (%s)', (_name, opts) => {
  const n = 4000;
  const data = clustered(n);

  it('equals the exact scan when every cell is probed', () => {
    const index = new IvfIndex(DIM, { ...opts, nlist: 64, seed: 3 });
    index.build(data, n);
    expect(index.size).toBe(n);
    for (const q of queries(20)) {
      // PQ re-scores only its `rerank` best approximations; with every cell probed and that
      // many re-scored, the exact top 10 is among them on this data
      expect(ivfTop(index, q, 10, index.lists)).toEqual(exactTop(data, n, q, 10));
    }
  });

  it('keeps recall@10 >= 0.9 while scanning a fraction of the items', () => {
    const index = new IvfIndex(DIM, { ...opts, nlist: 64, seed: 3 });
    index.build(data, n);
    let hit = 0;
    const qs = queries(50);
    for (const q of qs) {
      const truth = new Set(exactTop(data, n, q, 10));
      for (const id of ivfTop(index, q, 10, 16)) if (truth.has(id)) hit++;
    }
    expect(hit / (10 * qs.length)).toBeGreaterThanOrEqual(0.9);
  });

  it('follows a changed row: upsert moves it, the new vector is what scores', () => {
    const local = data.slice();
    const index = new IvfIndex(DIM, { ...opts, nlist: 64, seed: 3 });
    index.build(local, n);
    const q = queries(1, 77)[0];
    const before = ivfTop(index, q, 5, index.lists);
    // make a row that was far from the top the best match for q by a wide margin
    const item = 1234;
    expect(before).not.toContain(item);
    for (let d = 0; d < DIM; d++) local[item * DIM + d] = 10 * q[d];
    const cell = index.cellOf(item);
    index.upsert(item);
    expect(index.cellOf(item)).not.toBe(-1);
    expect(index.size).toBe(n);
    expect(ivfTop(index, q, 1, 8)[0]).toBe(item);
    expect(cell).toBeGreaterThanOrEqual(0);
    // after a recenter it is back in a cell, and still found
    index.recenter();
    expect(index.cellOf(item)).toBeGreaterThanOrEqual(0);
    expect(ivfTop(index, q, 1, 8)[0]).toBe(item);
    expect(index.size).toBe(n);
  });

  it('removes rows and re-centres without losing any', () => {
    const local = data.slice();
    const index = new IvfIndex(DIM, { ...opts, nlist: 32, seed: 5 });
    index.build(local, n);
    index.remove(7);
    index.remove(7);
    expect(index.size).toBe(n - 1);
    expect(index.cellOf(7)).toBe(-1);
    // drift every row a little, then re-centre
    for (let x = 0; x < local.length; x++) local[x] *= 1.1;
    for (let i = 0; i < n; i++) if (i !== 7) index.upsert(i);
    index.recenter();
    expect(index.size).toBe(n - 1);
    const q = queries(1, 5)[0];
    const got = ivfTop(index, q, 10, index.lists);
    expect(got).not.toContain(7);
    const truth = exactTop(local, n, q, 11)
      .filter((i) => i !== 7)
      .slice(0, 10);
    expect(got).toEqual(truth);
  });

  it('adds rows past the built size', () => {
    const grown = new Float32Array((n + 1) * DIM);
    grown.set(data);
    const index = new IvfIndex(DIM, { ...opts, nlist: 32, seed: 5 });
    index.build(grown, n);
    const q = queries(1, 3)[0];
    for (let d = 0; d < DIM; d++) grown[n * DIM + d] = 20 * q[d];
    expect(index.upsert(n)).toBe(true);
    expect(ivfTop(index, q, 1)[0]).toBe(n);
  });
});

describe('MfRetriever', () => {
  const events = (nUsers: number, nItems: number, count: number) => {
    const rnd = mulberry32(4);
    return Array.from({ length: count }, (_, i) => ({
      eventId: `e${i}`,
      ts: 1_700_000_000_000 + i * 1000,
      userId: `u${Math.floor(rnd() * nUsers)}`,
      itemId: `i${Math.floor(Math.pow(rnd(), 2) * nItems)}`,
      type: 'purchase' as const,
    }));
  };

  const topByPredict = (mf: MfRecommender, u: number, k: number): number[] => {
    const scored = Array.from({ length: mf.Q.rows }, (_, c) => [c, mf.predict(u, c)] as const);
    scored.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    return scored.slice(0, k).map(([c]) => c);
  };

  it('returns the MF top K (exact scan below the index threshold)', () => {
    const mf = new MfRecommender({ dim: 8 });
    const r = new MfRetriever(mf, { minIndexItems: 1_000_000 });
    for (const e of events(50, 300, 5000)) {
      mf.learn(e);
      r.afterLearn();
    }
    // a full sync pass so the mirror holds the final factors
    for (let t = 0; t < 300; t++) r.afterLearn();
    const u = mf.ctx.users.get('u3');
    const h = new TopK(10);
    h.reset(10);
    r.searchInto(u, h);
    const ids = new Int32Array(10);
    const sc = new Float64Array(10);
    const got = Array.from(ids.subarray(0, h.drain(ids, sc)));
    expect(r.indexed).toBe(false);
    expect(got).toEqual(topByPredict(mf, u, 10));
  });

  it('switches to the IVF index on a large catalogue and keeps recall', () => {
    const mf = new MfRecommender({ dim: 8 });
    const r = new MfRetriever(mf, {
      minIndexItems: 500,
      syncPerEvent: 50,
      ivf: { nlist: 32, nprobe: 12, storage: 'flat' },
    });
    for (const e of events(100, 2000, 20_000)) {
      mf.learn(e);
      r.afterLearn();
    }
    for (let t = 0; t < 100; t++) r.afterLearn();
    expect(r.indexed).toBe(true);
    let hit = 0;
    const users = 20;
    for (let x = 0; x < users; x++) {
      const u = mf.ctx.users.get(`u${x}`);
      const h = new TopK(10);
      h.reset(10);
      r.searchInto(u, h);
      const ids = new Int32Array(10);
      const got = new Set(ids.subarray(0, h.drain(ids, new Float64Array(10))));
      for (const c of topByPredict(mf, u, 10)) if (got.has(c)) hit++;
    }
    expect(hit / (10 * users)).toBeGreaterThanOrEqual(0.8);
  });
});
