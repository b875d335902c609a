import { growI32, growU8 } from '../core/arrays.js';
import { TopK } from '../core/topk.js';
import { isBuyCode } from '../core/weights.js';
import type { ContentRecommender } from '../content.js';
import type { ItemKnnRecommender } from '../itemknn.js';
import type { MfRetriever } from '../retrieval/mf-retriever.js';
import type { TrendingRecommender } from '../trending.js';
import type { CategoryLists } from './category-lists.js';
import { FEATURE_INDEX as FI, type RankerModel } from './model.js';
import type { RankedSettings } from './ranked-options.js';

// how a candidate was nominated (bit set), for reasons when no feature explains it
const BY_KNN = 1;
const BY_CONTENT = 2;
const BY_TREND = 4;
const BY_CATEGORY = 8;
const BY_POPULAR = 16;
const BY_RECENT = 32;
const BY_MF = 64;

/** Features that stand for one generator, so the largest contribution names the reason. */
const REASON_FEATURES = Int32Array.of(
  FI.knn,
  FI.content,
  FI.trending,
  FI.popular,
  FI.mf,
  FI.recency,
  FI.user_category,
);

/** The generators candidates come from (RankedRecommender's fields). */
export interface Generators {
  readonly knn: ItemKnnRecommender;
  readonly content: ContentRecommender;
  readonly trending: TrendingRecommender;
  readonly retriever: MfRetriever | undefined;
}

/**
 * The candidates of one recommend(): each item once (slot order = nomination order), with the
 * generators that nominated it. Per-item arrays are stamped with the request's epoch instead of
 * cleared, so a request costs its candidates, not the catalogue. Bound: one entry per item.
 */
export class CandidateSet {
  /** Item of slot s. */
  list = new Int32Array(0);
  /** Slot of item c (valid when stamped with this request's epoch). */
  slotOf = new Int32Array(0);
  n = 0;
  private stamp = new Int32Array(0);
  private nominated = new Uint8Array(0);
  private epoch = 0;
  private readonly mfHeap = new TopK(16);
  private mfIds = new Int32Array(16);
  private mfScores = new Float64Array(16);

  /** Whether the per-item arrays cover `items` (false: the caller grows its own too). */
  covers(items: number): boolean {
    return items <= this.stamp.length;
  }

  ensureItems(items: number): void {
    this.stamp = growI32(this.stamp, items);
    this.slotOf = growI32(this.slotOf, items);
    this.list = growI32(this.list, items);
    this.nominated = growU8(this.nominated, items);
  }

  /** After a restore: item rows are numbered anew. */
  clear(): void {
    this.stamp = new Int32Array(0);
  }

  private add(c: number, by: number): void {
    if (this.stamp[c] === this.epoch) {
      this.nominated[c] |= by;
      return;
    }
    this.stamp[c] = this.epoch;
    this.nominated[c] = by;
    this.slotOf[c] = this.n;
    this.list[this.n++] = c;
  }

  /**
   * Nominates user u's candidates: co-visitation neighbours, content matches, global trending,
   * trending in the user's recent categories, popular items (users with no history only), the
   * user's own recent items, and MF retrieval when MF knows the user.
   */
  nominate(
    g: Generators,
    cats: CategoryLists,
    o: RankedSettings,
    u: number,
    mfKnows: boolean,
  ): void {
    this.epoch++;
    this.n = 0;
    const knn = g.knn;
    const nk = knn.collect(u);
    for (let t = 0; t < nk; t++) this.add(knn.candidate(t), BY_KNN);
    const content = g.content;
    const nc = content.collect(u);
    for (let t = 0; t < nc; t++) this.add(content.candidate(t), BY_CONTENT);
    const nt = Math.min(g.trending.top(), o.trendingCandidates);
    for (let t = 0; t < nt; t++) this.add(g.trending.topIds[t], BY_TREND);
    const C = o.categoryCandidates;
    if (u >= 0 && C > 0 && cats.topLen.length > 0) {
      const nUc = o.userCategories;
      for (let p = u * nUc; p < (u + 1) * nUc; p++) {
        const cat = cats.userCat[p];
        if (cat < 0 || cat >= cats.topLen.length) continue;
        for (let t = 0; t < cats.topLen[cat]; t++) this.add(cats.topIds[cat * C + t], BY_CATEGORY);
      }
    }
    const h = knn.history;
    const hLen = u >= 0 && u < h.len.length ? h.len[u] : 0;
    if (hLen === 0) for (let t = 0; t < cats.popLen; t++) this.add(cats.popIds[t], BY_POPULAR);
    for (let p = 0; p < hLen; p++) this.add(h.items[h.start(u) + p], BY_RECENT);
    if (g.retriever && mfKnows && o.mfCandidates > 0) {
      const kk = o.mfCandidates;
      if (kk > this.mfIds.length) {
        this.mfIds = new Int32Array(kk);
        this.mfScores = new Float64Array(kk);
      }
      this.mfHeap.reset(kk);
      g.retriever.searchInto(u, this.mfHeap);
      const got = this.mfHeap.drain(this.mfIds, this.mfScores);
      for (let t = 0; t < got; t++) this.add(this.mfIds[t], BY_MF);
    }
  }

  /**
   * Why item c (feature row at X[r]) is shown to user u: the generator that contributes most to
   * its score, else the one that nominated it.
   */
  reasonFor(
    g: Generators,
    m: RankerModel,
    X: Float32Array,
    u: number,
    c: number,
    r: number,
  ): string {
    const w = m.wide;
    let best = 0;
    let which = -1;
    for (let q = 0; q < REASON_FEATURES.length; q++) {
      const f = REASON_FEATURES[q];
      const v = w[f] * X[r + f];
      if (v > best) {
        best = v;
        which = f;
      }
    }
    const by = this.nominated[c];
    if (which === FI.knn || (which < 0 && by & BY_KNN))
      if (g.knn.isCandidate(c)) return g.knn.reasonFor(c);
    if (which === FI.content || (which < 0 && by & BY_CONTENT))
      if (g.content.isCandidate(c)) return g.content.reasonFor(c);
    if (which === FI.recency || (which < 0 && by & BY_RECENT)) {
      const h = g.knn.history;
      const p = u >= 0 ? h.indexOf(u, c) : -1;
      if (p >= 0)
        return isBuyCode(h.types[h.start(u) + p])
          ? 'still in your cart'
          : 'you viewed this recently';
    }
    if (which === FI.mf || (which < 0 && by & BY_MF)) return 'matches your taste';
    if (which === FI.popular || (which < 0 && by & BY_POPULAR)) return 'popular now';
    // trending, trending in one of the user's categories, or nothing stood out
    return g.trending.reasonFor(u, c);
  }
}
