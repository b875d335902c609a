import type { ClickEvent, ItemEvent, ScoredItem } from './event.js';
import type { Recommender } from './recommender.js';
import { growF64, growI32 } from './core/arrays.js';
import { ModelContext, Ranker } from './core/context.js';
import { checkModel, stripUndefined } from './core/options.js';
import { SnapshotReader, SnapshotWriter, decodeSnapshot } from './core/snapshot.js';
import { isBuyCode } from './core/weights.js';
import { ContentRecommender, type ContentOptions } from './content.js';
import { ItemKnnRecommender, type ItemKnnOptions } from './itemknn.js';
import { MfRecommender, type MfOptions } from './mf.js';
import { PopularRecommender, type PopularOptions } from './popular.js';
import { TrendingRecommender, type TrendingOptions } from './trending.js';

/** Blend weight per component; 0 switches a component off entirely (not even learned). */
export interface HybridWeights {
  itemknn?: number;
  content?: number;
  mf?: number;
  trending?: number;
  popular?: number;
  recency?: number;
}

export interface HybridOptions {
  weights?: HybridWeights;
  /** Trending items added to every candidate set (default 20). */
  trendingCandidates?: number;
  /** How many of the best cheap-blend candidates MF re-ranks (default 25). */
  rerankDepth?: number;
  itemknn?: ItemKnnOptions;
  content?: ContentOptions;
  mf?: MfOptions;
  trending?: TrendingOptions;
  popular?: PopularOptions;
}

/** Tuned on the full Online Retail stream (prequential HR@10, see bench/models.ts). */
export const DEFAULT_HYBRID_WEIGHTS: Required<HybridWeights> = {
  itemknn: 1,
  content: 0.3,
  mf: 0.1,
  trending: 0.1,
  popular: 0.05,
  recency: 0.3,
};

/**
 * MF inside the hybrid only re-ranks a short list, where a faster-moving model helps more
 * than the slower, better-calibrated settings that are best for `mf` on its own.
 */
export const HYBRID_MF_DEFAULTS: MfOptions = {
  learningRate: 0.05,
  regularization: 0.01,
  negativeWeight: 0.5,
};

const CH_KNN = 0;
const CH_CONTENT = 1;
const CH_MF = 2;
const CH_TREND = 3;
const CH_POP = 4;
const CH_RECENCY = 5;

/**
 * The default model: candidates from co-visitation, content similarity, trending and the
 * user's own recent items; every candidate scored by each enabled component, each score
 * normalised to [0, 1] over the candidate set, then blended linearly. The reason shown is
 * that of the component that contributed most to the item's score.
 *
 * "recency" re-surfaces items the user looked at or carted recently (not bought: those are
 * excluded by the caller); on purchase-only streams it has nothing to offer.
 */
export class HybridRecommender implements Recommender {
  readonly name: string = 'default';
  readonly ctx = new ModelContext();
  readonly knn: ItemKnnRecommender;
  readonly content: ContentRecommender | undefined;
  readonly mf: MfRecommender | undefined;
  readonly trending: TrendingRecommender | undefined;
  readonly popular: PopularRecommender | undefined;
  private readonly w: Float64Array;
  private readonly trendingCandidates: number;

  private stamp = new Int32Array(0);
  private epoch = 0;
  private list = new Int32Array(0);
  private n = 0;
  /** per candidate slot: the recency channel's weighted score */
  private recency = new Float64Array(0);
  private readonly ranker = new Ranker();
  private readonly pre = new Ranker();
  private readonly rerankDepth: number;
  private preIds = new Int32Array(0);
  private preScores = new Float64Array(0);
  private preMf = new Float64Array(0);
  private bestPart = new Float64Array(0);
  /** per candidate slot: the blend of every component but MF */
  private cheap = new Float64Array(0);
  private topChannel = new Int32Array(0);
  private slotOf = new Int32Array(0);
  private user = -1;
  private readonly reasonOf = (c: number): string => this.reasonFor(c);

  constructor(opts: HybridOptions = {}) {
    const weights = { ...DEFAULT_HYBRID_WEIGHTS, ...stripUndefined(opts.weights ?? {}) };
    this.w = new Float64Array(CH_RECENCY + 1);
    this.w[CH_KNN] = weights.itemknn;
    this.w[CH_CONTENT] = weights.content;
    this.w[CH_MF] = weights.mf;
    this.w[CH_TREND] = weights.trending;
    this.w[CH_POP] = weights.popular;
    this.w[CH_RECENCY] = weights.recency;
    this.trendingCandidates = opts.trendingCandidates ?? 20;
    this.rerankDepth = opts.rerankDepth ?? 25;
    this.preIds = new Int32Array(Math.max(this.rerankDepth, 16));
    this.preScores = new Float64Array(this.preIds.length);
    this.preMf = new Float64Array(this.preIds.length);
    // item-kNN always runs: its user history also feeds the recency channel
    this.knn = new ItemKnnRecommender(opts.itemknn, this.ctx);
    this.content = weights.content > 0 ? new ContentRecommender(opts.content, this.ctx) : undefined;
    this.mf =
      weights.mf > 0
        ? new MfRecommender({ ...HYBRID_MF_DEFAULTS, ...stripUndefined(opts.mf ?? {}) }, this.ctx)
        : undefined;
    this.trending =
      weights.trending > 0 || this.trendingCandidates > 0
        ? new TrendingRecommender(
            { ...opts.trending, topSize: Math.max(this.trendingCandidates, 1) },
            this.ctx,
          )
        : undefined;
    this.popular = weights.popular > 0 ? new PopularRecommender(opts.popular, this.ctx) : undefined;
  }

  learn(event: ClickEvent): void {
    const u = this.ctx.users.intern(event.userId);
    const i = this.ctx.items.intern(event.itemId);
    this.knn.observe(u, i, event);
    this.content?.observe(u, i, event);
    this.mf?.observe(u, i, event);
    this.trending?.observe(u, i, event);
    this.popular?.observe(u, i, event);
  }

  learnItem(item: ItemEvent): void {
    this.content?.learnItem(item);
    this.trending?.learnItem(item);
  }

  private ensure(items: number): void {
    if (items <= this.stamp.length) return;
    this.stamp = growI32(this.stamp, items);
    this.slotOf = growI32(this.slotOf, items);
    this.list = growI32(this.list, items);
    this.bestPart = growF64(this.bestPart, items);
    this.cheap = growF64(this.cheap, items);
    this.topChannel = growI32(this.topChannel, items);
    this.recency = growF64(this.recency, items);
  }

  private addCandidate(c: number): void {
    if (this.stamp[c] === this.epoch) return;
    this.stamp[c] = this.epoch;
    this.slotOf[c] = this.n;
    this.list[this.n++] = c;
  }

  recommend(userId: string, k: number, exclude: ReadonlySet<string>): ScoredItem[] {
    const items = this.ctx.items;
    this.ensure(items.size);
    const u = this.ctx.users.get(userId);
    this.user = u;
    this.epoch++;
    this.n = 0;

    const knn = this.knn;
    const nk = knn.collect(u);
    for (let t = 0; t < nk; t++) this.addCandidate(knn.candidate(t));
    const content = this.content;
    const nc = content ? content.collect(u) : 0;
    for (let t = 0; t < nc; t++) this.addCandidate(content!.candidate(t));
    const trending = this.trending;
    if (trending && this.trendingCandidates > 0) {
      const nt = Math.min(trending.top(), this.trendingCandidates);
      for (let t = 0; t < nt; t++) this.addCandidate(trending.topIds[t]);
    }
    const h = knn.history;
    const hLen = u >= 0 && u < h.len.length ? h.len[u] : 0;
    if (this.w[CH_RECENCY] > 0)
      for (let p = 0; p < hLen; p++) this.addCandidate(h.items[u * h.size + p]);

    // each component's scores are scaled to [0, 1] by its best candidate (popularity by the
    // catalogue's best), then blended; recency ranks the user's own recent items
    const n = this.n;
    const list = this.list;
    const maxK = knn.finalizeScores();
    const maxC = content ? content.maxScore() : 0;
    const wk = maxK > 0 ? this.w[CH_KNN] / maxK : 0;
    const wc = content && maxC > 0 ? this.w[CH_CONTENT] / maxC : 0;
    const wt = trending && trending.maxScore > 0 ? this.w[CH_TREND] / trending.maxScore : 0;
    const popular = this.popular;
    const wp = popular && popular.maxPop > 0 ? this.w[CH_POP] / popular.maxPop : 0;
    const recency = this.recency;
    recency.fill(0, 0, n);
    if (this.w[CH_RECENCY] > 0) {
      // newer first, carts above views (purchases are excluded by the caller anyway)
      for (let p = 0; p < hLen; p++) {
        const e = u * h.size + p;
        recency[this.slotOf[h.items[e]]] =
          (this.w[CH_RECENCY] * (isBuyCode(h.types[e]) ? 1 : 0.5)) / (1 + p);
      }
    }
    // MF is the costly scorer, so it only re-ranks the best `rerankDepth` of the cheap blend
    const mf = this.mf;
    const rerank = mf !== undefined && mf.knows(u) && this.w[CH_MF] > 0;
    const cheap = this.cheap;
    for (let s = 0; s < n; s++) {
      const c = list[s];
      let best = wk * knn.scoreOrZero(c);
      let ch = CH_KNN;
      let total = best;
      if (wc > 0) {
        const v = wc * content!.scoreOrZero(c);
        total += v;
        if (v > best) {
          best = v;
          ch = CH_CONTENT;
        }
      }
      if (wt > 0) {
        const v = wt * trending!.score[c];
        total += v;
        if (v > best) {
          best = v;
          ch = CH_TREND;
        }
      }
      if (wp > 0) {
        const v = wp * popular!.pop[c];
        total += v;
        if (v > best) {
          best = v;
          ch = CH_POP;
        }
      }
      const vr = recency[s];
      if (vr > 0) {
        total += vr;
        if (vr > best) {
          best = vr;
          ch = CH_RECENCY;
        }
      }
      this.topChannel[c] = ch;
      this.bestPart[c] = best;
      cheap[s] = total;
    }
    if (!rerank) {
      const r = this.ranker;
      r.begin(k);
      for (let s = 0; s < n; s++) r.offer(list[s], cheap[s], items, exclude);
      return r.finish(items, this.reasonOf);
    }

    // Stage 1 ignores `exclude` (a string lookup per heap entry is the dominant cost) and drops
    // excluded items afterwards; only when too few survive does it rank again with the checks.
    const depth = Math.max(k, this.rerankDepth);
    if (depth > this.preIds.length) {
      this.preIds = new Int32Array(depth);
      this.preScores = new Float64Array(depth);
      this.preMf = new Float64Array(depth);
    }
    const pre = this.pre.begin(depth);
    for (let s = 0; s < n; s++) pre.offer(list[s], cheap[s]);
    let m = pre.drain(this.preIds, this.preScores);
    let kept = 0;
    for (let t = 0; t < m; t++) {
      const c = this.preIds[t];
      if (exclude.size > 0 && exclude.has(items.name(c))) continue;
      this.preIds[kept] = c;
      this.preScores[kept++] = this.preScores[t];
    }
    if (kept < k && n > m) {
      const r = this.pre;
      r.begin(depth);
      for (let s = 0; s < n; s++) r.offer(list[s], cheap[s], items, exclude);
      kept = r.heap.drain(this.preIds, this.preScores);
    }
    m = kept;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let t = 0; t < m; t++) {
      const v = mf.predict(u, this.preIds[t]);
      this.preMf[t] = v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const wm = hi > lo ? this.w[CH_MF] / (hi - lo) : 0;
    const out = this.ranker;
    const heap = out.begin(k);
    for (let t = 0; t < m; t++) {
      const c = this.preIds[t];
      const v = wm * (this.preMf[t] - lo);
      if (v > this.bestPart[c]) this.topChannel[c] = CH_MF;
      heap.offer(c, this.preScores[t] + v);
    }
    return out.finish(items, this.reasonOf);
  }

  private reasonFor(c: number): string {
    switch (this.topChannel[c]) {
      case CH_KNN:
        return this.knn.reasonFor(c);
      case CH_CONTENT:
        return this.content!.reasonFor(c);
      case CH_MF:
        return 'matches your taste';
      case CH_TREND:
        return this.trending!.reasonFor(this.user, c);
      case CH_POP:
        return 'popular now';
      default: {
        const h = this.knn.history;
        const base = this.user * h.size;
        for (let p = 0; p < h.len[this.user]; p++) {
          if (h.items[base + p] === c)
            return isBuyCode(h.types[base + p]) ? 'still in your cart' : 'you viewed this recently';
        }
        return 'you viewed this recently';
      }
    }
  }

  snapshot(): Uint8Array {
    const w = new SnapshotWriter();
    w.set('model', this.name);
    this.ctx.save(w);
    this.knn.save(w.scope('itemknn.'));
    this.content?.save(w.scope('content.'));
    this.mf?.save(w.scope('mf.'));
    this.trending?.save(w.scope('trending.'));
    this.popular?.save(w.scope('popular.'));
    return w.encode();
  }

  restore(bytes: Uint8Array): void {
    const r = new SnapshotReader(decodeSnapshot(bytes));
    checkModel(r, this.name);
    this.ctx.load(r);
    this.knn.load(r.scope('itemknn.'));
    this.content?.load(r.scope('content.'));
    this.mf?.load(r.scope('mf.'));
    this.trending?.load(r.scope('trending.'));
    this.popular?.load(r.scope('popular.'));
  }
}
