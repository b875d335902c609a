import { describe, expect, it } from 'vitest';
import type { ClickEvent, EventType, ItemEvent } from '../../models/event.js';
import {
  F,
  FEATURE_INDEX,
  blendModel,
  cloneModel,
  deepScore,
  score,
  wideScore,
} from '../../models/ranking/model.js';
import { OnlineRankLearner } from '../../models/ranking/online.js';
import { RankedRecommender } from '../../models/ranking/ranked-recommender.js';
import { modelFromJson, modelToJson } from '../../models/ranking/model.js';
import { createRecommender } from '../../models/registry.js';
import { mulberry32 } from '../support/synthetic-stream.js';

const T0 = Date.UTC(2026, 10, 1, 9);
let seq = 0;
const ev = (
  userId: string,
  itemId: string,
  ts: number,
  type: EventType = 'purchase',
  extra: Partial<ClickEvent> = {},
): ClickEvent => ({ eventId: `e${seq++}`, ts, userId, itemId, type, ...extra });

/** Baskets: items a0..a4 are bought together, b0..b4 together; p is bought by everyone. */
function stream(): ClickEvent[] {
  const rnd = mulberry32(3);
  const out: ClickEvent[] = [];
  let ts = T0;
  for (let u = 0; u < 60; u++) {
    const fam = u % 2 === 0 ? 'a' : 'b';
    for (let j = 0; j < 5; j++) {
      ts += 1000;
      out.push(
        ev(`u${u}`, `${fam}${(j + u) % 5}`, ts, 'purchase', { category: fam.toUpperCase() }),
      );
    }
    ts += 1000;
    out.push(ev(`u${u}`, 'p', ts));
    if (rnd() < 0.3) out.push(ev(`u${u}`, `v${u}`, (ts += 1000), 'view'));
  }
  return out;
}

describe('ranking model', () => {
  it('starts as the blend: the MLP adds nothing until it is trained', () => {
    const m = blendModel(8);
    const x = new Float32Array(F);
    x[FEATURE_INDEX.knn] = 0.5;
    x[FEATURE_INDEX.content] = 1;
    const act = new Float32Array(8);
    expect(deepScore(m, x, 0, act)).toBe(0);
    expect(wideScore(m, x, 0)).toBeCloseTo(0.5 * 1 + 1 * 0.6, 6);
    expect(score(m, x, 0, act)).toBeCloseTo(wideScore(m, x, 0), 6);
  });

  it('round-trips through JSON and rejects misshapen weights', () => {
    const m = blendModel(4);
    m.w2[1] = 0.25;
    const back = modelFromJson(JSON.parse(JSON.stringify(modelToJson(m))));
    expect(Array.from(back.w2)).toEqual(Array.from(m.w2));
    expect(back.hidden).toBe(4);
    expect(() => modelFromJson({ ...modelToJson(m), w1: [1, 2] })).toThrow(/shapes/);
    expect(() => modelFromJson({ ...modelToJson(m), wide: 'x' })).toThrow(/wide/);
  });

  it('online pairwise updates move the positive above what outranked it', () => {
    const m = blendModel(4);
    const learner = new OnlineRankLearner({ learningRate: 0.1, deepLearningRate: 0.05 }, m);
    // two rows: the served top has high knn; users keep taking the one with high trending
    const rows = new Float32Array(2 * F);
    rows[FEATURE_INDEX.knn] = 1;
    rows[F + FEATURE_INDEX.knn] = 0.6;
    rows[F + FEATURE_INDEX.trending] = 1;
    const act = new Float32Array(4);
    expect(score(m, rows, 0, act)).toBeGreaterThan(score(m, rows, F, act));
    for (let t = 0; t < 200; t++) learner.update(m, rows, 2, 1);
    expect(score(m, rows, F, act)).toBeGreaterThan(score(m, rows, 0, act));
    expect(m.wide[FEATURE_INDEX.trending]).toBeGreaterThan(0.15);
  });

  it('does not treat rows the user took later as negatives', () => {
    const m = blendModel(4);
    const before = cloneModel(m);
    const learner = new OnlineRankLearner({ learningRate: 0.1 }, m);
    const rows = new Float32Array(2 * F);
    rows[FEATURE_INDEX.knn] = 1;
    rows[F + FEATURE_INDEX.trending] = 1;
    learner.update(m, rows, 2, 1, () => false);
    expect(Array.from(m.wide)).toEqual(Array.from(before.wide));
  });
});

describe('RankedRecommender', () => {
  const trained = (opts = {}): RankedRecommender => {
    const r = new RankedRecommender(opts);
    // item categories are catalog facts (topic items), never taken from click events
    const named = new Set<string>();
    for (const e of stream()) {
      if (e.category !== undefined && !named.has(e.itemId)) {
        named.add(e.itemId);
        r.learnItem({ itemId: e.itemId, ts: e.ts, category: e.category });
      }
      r.learn(e);
    }
    return r;
  };

  it('is offered by the registry as "ranked"', () => {
    expect(createRecommender('ranked').name).toBe('ranked');
  });

  it('recommends basket partners, never an excluded item, always with a reason', () => {
    const r = trained();
    const recs = r.recommend('u0', 10, new Set(['a0', 'a1']));
    expect(recs.length).toBeGreaterThan(0);
    const ids = recs.map((x) => x.itemId);
    expect(ids).not.toContain('a0');
    expect(ids).not.toContain('a1');
    expect(ids.slice(0, 3).every((i) => i.startsWith('a'))).toBe(true);
    for (const x of recs) expect(x.reason.length).toBeGreaterThan(0);
    expect(recs[0].reason).toMatch(/^(bought together with|similar to) /);
    for (let t = 1; t < recs.length; t++)
      expect(recs[t - 1].score).toBeGreaterThanOrEqual(recs[t].score);
  });

  it('serves cold users popular and trending items with reasons', () => {
    const r = trained();
    const recs = r.recommend('nobody', 5, new Set());
    expect(recs.length).toBe(5);
    expect(recs[0].itemId).toBe('p');
    for (const x of recs) expect(x.reason).toMatch(/^(popular now|trending( now| in .+))$/);
  });

  it('reaches items nobody interacted with yet through their titles', () => {
    const r = trained();
    const cat: ItemEvent[] = [
      { itemId: 'lamp-red', ts: T0, title: 'RED HEART LANTERN', category: 'A' },
      { itemId: 'lamp-blue', ts: T0, title: 'BLUE HEART LANTERN', category: 'A' },
    ];
    for (const it of cat) r.learnItem(it);
    r.learn(ev('fresh', 'lamp-red', T0 + 10_000_000, 'view'));
    const recs = r.recommend('fresh', 20, new Set());
    const hit = recs.find((x) => x.itemId === 'lamp-blue');
    expect(hit?.reason).toBe('similar to lamp-red');
  });

  it('links new items of the user category even when titles share nothing', () => {
    const r = trained();
    r.learnItem({ itemId: 'kettle-1', ts: T0, title: 'COPPER KETTLE', category: 'TEA' });
    r.learnItem({ itemId: 'pot-9', ts: T0, title: 'PORCELAIN POT', category: 'TEA' });
    r.learn(ev('tea-fan', 'kettle-1', T0 + 10_000_000, 'view', { category: 'TEA' }));
    const hit = r.recommend('tea-fan', 20, new Set()).find((x) => x.itemId === 'pot-9');
    expect(hit?.reason).toBe('similar to kettle-1');
  });

  it('swaps the scoring weights atomically and serves with them at once', () => {
    const r = trained({ online: { enabled: false } });
    const before = r.recommend('u0', 5, new Set());
    const popOnly = blendModel(8);
    popOnly.wide.fill(0);
    popOnly.wide[FEATURE_INDEX.popular] = 1;
    popOnly.version = 'nearline@test';
    r.swapModel(popOnly);
    expect(r.modelVersion).toBe('nearline@test');
    const after = r.recommend('u0', 5, new Set());
    expect(after[0].itemId).toBe('p');
    expect(after.map((x) => x.itemId)).not.toEqual(before.map((x) => x.itemId));
    // the recommender holds a copy: changing the caller's object changes nothing
    popOnly.wide[FEATURE_INDEX.popular] = -1;
    expect(r.recommend('u0', 5, new Set())[0].itemId).toBe('p');
    const bad = blendModel(8);
    bad.wide[0] = Number.NaN;
    expect(() => r.swapModel(bad)).toThrow(/non-finite/);
    expect(r.modelVersion).toBe('nearline@test');
  });

  it('learns online from served lists the user then acted on', () => {
    const r = new RankedRecommender();
    for (const e of stream()) {
      r.recommend(e.userId, 10, new Set());
      r.learn(e);
    }
    expect(r.onlineUpdates).toBeGreaterThan(0);
    expect(r.modelVersion).toBe('blend+online');
  });

  it('logs feature vectors only when asked to', () => {
    expect(trained().recommend('u0', 3, new Set())[0].features).toBeUndefined();
    const f = trained({ logFeatures: true }).recommend('u0', 3, new Set())[0].features;
    expect(f).toHaveLength(F);
    expect(f?.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('restores from a snapshot to the same lists', () => {
    const r = trained();
    const copy = new RankedRecommender();
    copy.restore(r.snapshot());
    for (const u of ['u0', 'u1', 'u7', 'nobody'])
      expect(copy.recommend(u, 10, new Set())).toEqual(r.recommend(u, 10, new Set()));
  });

  it('exposes item factors (when MF is on) and categories for the serving policy', () => {
    expect(trained().itemVector('a0')).toBeUndefined();
    const r = trained({ useMf: true });
    expect(r.itemVector('a0')?.length).toBeGreaterThan(0);
    expect(r.itemVector('missing')).toBeUndefined();
    expect(r.itemCategory('a0')).toBe('A');
  });

  it('adds MF retrieval candidates when asked to', () => {
    const r = trained({ mfCandidates: 5 });
    const recs = r.recommend('u1', 10, new Set());
    expect(recs.length).toBe(10);
    expect(r.retriever).toBeDefined();
  });
});
