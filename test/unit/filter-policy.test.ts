import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ItemEvent, ScoredItem } from '../../models/event.js';
import {
  CatalogState,
  DEFAULT_POLICY,
  diversify,
  filterAndBoost,
  type ServingPolicyConfig,
} from '../../models/ranking/policy.js';
import { diversifyRecommendations } from '../../operators/diversify-recommendations.js';
import { filterRecommendations } from '../../operators/filter-recommendations.js';
import type { GraphBatch, ServedRecommendation } from '../../operators/types.js';

const T0 = Date.UTC(2026, 10, 1, 12);
const list = (...ids: string[]): ScoredItem[] =>
  ids.map((itemId, i) => ({ itemId, score: 10 - i, reason: `r${itemId}` }));
const policy = (p: Partial<ServingPolicyConfig> = {}): ServingPolicyConfig => ({
  ...DEFAULT_POLICY,
  ...p,
});
const item = (itemId: string, extra: Partial<ItemEvent> = {}): ItemEvent => ({
  itemId,
  ts: T0,
  ...extra,
});

function batch(items: ItemEvent[], recs: ServedRecommendation[]): GraphBatch {
  return {
    seq: 0,
    commits: [],
    messages: 0,
    events: [],
    items,
    duplicates: 0,
    deadLetters: [],
    recommendations: recs,
    purchases: new Map(),
    features: [],
    lateFeatureEvents: 0,
    watermark: 0,
  };
}
const served = (userId: string, items: ScoredItem[]): ServedRecommendation => ({
  userId,
  items,
  modelVersion: 'm',
  eventTs: T0,
  updatedAt: T0,
});

describe('filterAndBoost', () => {
  it('returns the very same list when nothing applies, so raw scores stay', () => {
    const l = list('a', 'b', 'c');
    expect(filterAndBoost(l, new CatalogState(), policy())).toBe(l);
  });

  it('tells repeats from distinct ids that end alike, in short and long lists', () => {
    const alike = list('ab1234', 'cd1234', 'x1234', '1234');
    expect(filterAndBoost(alike, new CatalogState(), policy())).toBe(alike);
    const repeat = list('ab1234', 'cd1234', 'ab1234');
    expect(filterAndBoost(repeat, new CatalogState(), policy()).map((x) => x.itemId)).toEqual([
      'ab1234',
      'cd1234',
    ]);
    const long = list(...Array.from({ length: 100 }, (_, i) => `i${i}`));
    expect(filterAndBoost(long, new CatalogState(), policy())).toBe(long);
    const longRepeat = [...long, { itemId: 'i7', score: 0, reason: 'again' }];
    expect(filterAndBoost(longRepeat, new CatalogState(), policy())).toHaveLength(100);
  });

  it('drops out-of-stock items until they are back in stock, and repeats', () => {
    const cat = new CatalogState();
    cat.observeItem(item('b', { inStock: false }));
    const l = [...list('a', 'b', 'c'), { itemId: 'a', score: 1, reason: 'again' }];
    expect(filterAndBoost(l, cat, policy()).map((x) => x.itemId)).toEqual(['a', 'c']);
    expect(
      filterAndBoost(l, cat, policy({ excludeOutOfStock: false })).map((x) => x.itemId),
    ).toEqual(['a', 'b', 'c']);
    cat.observeItem(item('b', { inStock: true }));
    expect(filterAndBoost(l, cat, policy()).map((x) => x.itemId)).toEqual(['a', 'b', 'c']);
  });

  it('boosts by category and item, 0 hides, negative scores move the right way', () => {
    const cat = new CatalogState();
    cat.observeItem(item('c', { category: 'TOYS' }));
    const p = policy({ boosts: { categories: { TOYS: 2 }, items: { b: 0 } } });
    const out = filterAndBoost(list('a', 'b', 'c'), cat, p);
    // a: 10, c: 8 × 2 = 16
    expect(out.map((x) => x.itemId)).toEqual(['c', 'a']);
    expect(out[0].score).toBe(16);
    expect(out[0].reason).toBe('rc');
    const neg: ScoredItem[] = [
      { itemId: 'x', score: -1, reason: '' },
      { itemId: 'y', score: -1.5, reason: '' },
    ];
    const up = filterAndBoost(neg, cat, policy({ boosts: { categories: {}, items: { y: 2 } } }));
    expect(up.map((x) => x.itemId)).toEqual(['y', 'x']);
  });
});

describe('diversify', () => {
  it('only truncates when neither caps nor MMR are on', () => {
    const l = list('a', 'b', 'c');
    expect(diversify(l, 2, new CatalogState(), policy())).toEqual(l.slice(0, 2));
    expect(diversify(l, 5, new CatalogState(), policy())).toBe(l);
  });

  it('caps items per category, keeping order', () => {
    const cat = new CatalogState();
    for (const [id, c] of [
      ['a', 'X'],
      ['b', 'X'],
      ['c', 'X'],
      ['d', 'Y'],
    ])
      cat.observeItem(item(id, { category: c }));
    const out = diversify(list('a', 'b', 'c', 'd', 'e'), 4, cat, policy({ maxPerCategory: 2 }));
    expect(out.map((x) => x.itemId)).toEqual(['a', 'b', 'd', 'e']);
  });

  it('MMR moves a near-duplicate down and keeps ZSET order with strictly decreasing scores', () => {
    const vec: Record<string, Float32Array> = {
      a: Float32Array.of(1, 0),
      b: Float32Array.of(0.99, 0.01),
      c: Float32Array.of(0, 1),
    };
    const l: ScoredItem[] = [
      { itemId: 'a', score: 1, reason: '' },
      { itemId: 'b', score: 0.95, reason: '' },
      { itemId: 'c', score: 0.9, reason: '' },
    ];
    const out = diversify(l, 3, new CatalogState(), policy({ mmrLambda: 0.5 }), (id) => vec[id]);
    expect(out.map((x) => x.itemId)).toEqual(['a', 'c', 'b']);
    for (let t = 1; t < out.length; t++) expect(out[t].score).toBeLessThan(out[t - 1].score);
    // lambda 1 is pure relevance
    const same = diversify(l, 3, new CatalogState(), policy({ mmrLambda: 1 }), (id) => vec[id]);
    expect(same.map((x) => x.itemId)).toEqual(['a', 'b', 'c']);
  });
});

describe('policy operators', () => {
  it('apply stock from the same batch, then cut to topK', async () => {
    const p = policy({ maxPerCategory: 1 });
    const cat = new CatalogState();
    const out = await lastValueFrom(
      from([
        batch(
          [item('a', { inStock: false, category: 'X' }), item('b', { category: 'X' })],
          [served('u1', list('a', 'b', 'c', 'd'))],
        ),
        batch([item('a', { inStock: true })], [served('u1', list('a', 'b', 'c', 'd'))]),
      ]).pipe(filterRecommendations(cat, p), diversifyRecommendations(cat, p, 2), toArray()),
    );
    expect(out[0].recommendations[0].items.map((x) => x.itemId)).toEqual(['b', 'c']);
    expect(out[1].recommendations[0].items.map((x) => x.itemId)).toEqual(['a', 'c']);
  });

  it('pass batches without recommendations through untouched', async () => {
    const b = batch([], []);
    const cat = new CatalogState();
    const [out] = await lastValueFrom(
      from([b]).pipe(
        filterRecommendations(cat, policy()),
        diversifyRecommendations(cat, policy(), 10),
        toArray(),
      ),
    );
    expect(out).toBe(b);
  });
});
