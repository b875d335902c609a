import type { ClickEvent, ItemEvent, ScoredItem } from '../event.js';
import type { Recommender } from '../recommender.js';
import { growF32 } from '../core/arrays.js';
import { ModelContext } from '../core/context.js';
import { checkModel as checkSnapshotModel, stripUndefined } from '../core/options.js';
import { SnapshotReader, SnapshotWriter, decodeSnapshot } from '../core/snapshot.js';
import { TopK } from '../core/topk.js';
import { TYPE_CODE, isBuyCode } from '../core/weights.js';
import { ContentRecommender } from '../content.js';
import { ItemKnnRecommender } from '../itemknn.js';
import { MfRecommender } from '../mf.js';
import { PopularRecommender } from '../popular.js';
import { TrendingRecommender } from '../trending.js';
import { MfRetriever } from '../retrieval/mf-retriever.js';
import { CandidateSet } from './candidates.js';
import { CategoryLists } from './category-lists.js';
import { DeepStage } from './deep-stage.js';
import {
  F,
  FEATURE_INDEX as FI,
  blendModel,
  checkModel,
  cloneModel,
  modelFromJson,
  modelToJson,
  type RankerModel,
} from './model.js';
import { RANKED_DEFAULTS, type RankedOptions, type RankedSettings } from './ranked-options.js';
import { ServedLists } from './served-lists.js';

export type { RankedOptions } from './ranked-options.js';

const POSITIVE = new Uint8Array(8);
POSITIVE[TYPE_CODE.purchase] = 1;
POSITIVE[TYPE_CODE.add_to_cart] = 1;
POSITIVE[TYPE_CODE.click] = 1;
POSITIVE[TYPE_CODE.push_click] = 1;

/**
 * Candidate generation + learned ranking. Generators: co-visitation neighbours of the user's
 * recent items (item-kNN), title/id similarity (content, which also reaches items nobody has
 * interacted with yet), global trending, trending within the user's recent categories,
 * popularity for users with no history, the user's own recently viewed or carted items, and
 * optionally MF inner-product retrieval (IVF) (candidates.ts). Every candidate gets the FEATURES
 * vector; a linear stage keeps the best `depth`, which MF and the MLP re-score.
 *
 * The model starts as the transparent blend (model.ts) and learns online from served lists
 * (served-lists.ts, online.ts); a nearline trainer can replace it at any time with swapModel(),
 * which is one reference assignment: the next recommend() uses the new weights, none sees a mix.
 */
export class RankedRecommender implements Recommender {
  readonly name: string = 'ranked';
  readonly ctx = new ModelContext();
  readonly knn: ItemKnnRecommender;
  readonly content: ContentRecommender;
  readonly mf: MfRecommender | undefined;
  readonly trending: TrendingRecommender;
  readonly popular: PopularRecommender;
  readonly retriever: MfRetriever | undefined;
  private readonly o: RankedSettings;
  /** rows kept per served list for online learning */
  private readonly depth: number;
  private model: RankerModel;
  /** Undefined when online learning is off. */
  private readonly served: ServedLists | undefined;
  private readonly gapMs: number;
  private readonly cats: CategoryLists;
  private now = Number.NEGATIVE_INFINITY;

  // scoring scratch, reused by every recommend()
  private readonly cands = new CandidateSet();
  private X = new Float32Array(0);
  private rec = new Float64Array(0);
  private readonly stage1 = new TopK(64);
  private preSlots: Int32Array;
  private preScores: Float64Array;
  private readonly deep: DeepStage;

  constructor(opts: RankedOptions = {}) {
    const o = (this.o = { ...RANKED_DEFAULTS, ...stripUndefined(opts) } as RankedSettings);
    this.knn = new ItemKnnRecommender(opts.itemknn, this.ctx);
    this.content = new ContentRecommender(opts.content, this.ctx);
    this.mf = o.useMf || o.mfCandidates > 0 ? new MfRecommender(opts.mf, this.ctx) : undefined;
    this.trending = new TrendingRecommender(
      { ...opts.trending, topSize: Math.max(o.trendingCandidates, 1) },
      this.ctx,
    );
    this.popular = new PopularRecommender(opts.popular, this.ctx);
    this.retriever =
      this.mf && o.mfCandidates > 0 ? new MfRetriever(this.mf, opts.retrieval) : undefined;
    this.model = blendModel(o.hidden);
    const depth = (this.depth = Math.max(1, o.depth));
    this.served =
      opts.online?.enabled === false
        ? undefined
        : new ServedLists(opts.online, this.model, depth, o.servedCache, this.knn.history);
    this.gapMs = o.sessionGapMinutes * 60_000;
    this.cats = new CategoryLists(
      o.userCategories,
      o.categoryCandidates,
      o.popularCandidates,
      o.refreshEvery,
    );
    this.preSlots = new Int32Array(depth);
    this.preScores = new Float64Array(depth);
    this.deep = new DeepStage(depth);
    this.ctx.tokenMap(this.cats.categories);
    // A recycled user row: its served-list cache slot and recent categories were someone else's.
    // (A queued example of the old user may still land on the row's new user's history check;
    // it only decides which of that list's items count as negatives.)
    this.ctx.users.onRecycle((u) => {
      this.served?.forget(u);
      this.cats.forget(u);
    });
  }

  /** The weights serving now (read-only use: the online learner mutates them in place). */
  get currentModel(): RankerModel {
    return this.model;
  }

  get modelVersion(): string {
    return this.model.version;
  }

  get onlineUpdates(): number {
    return this.served?.learner.updates ?? 0;
  }

  /**
   * Replaces the scoring weights atomically (a nearline trainer calls this between batches or
   * mid-stream; JavaScript runs one recommend() at a time, and each reads the reference once).
   * Online learning continues from the new weights and is anchored to them.
   */
  swapModel(next: RankerModel): void {
    checkModel(next);
    this.deep.ensureHidden(next.hidden);
    const m = cloneModel(next);
    this.served?.learner.anchor(m);
    this.model = m;
  }

  learn(event: ClickEvent): void {
    const i = this.ctx.items.intern(event.itemId);
    if (i < 0) return; // the item space is full (limits.items)
    const u = this.ctx.users.intern(event.userId);
    this.ensureUsers(this.ctx.users.size);
    this.ensureItems(this.ctx.items.size);
    if (this.served && POSITIVE[TYPE_CODE[event.type]] === 1)
      this.served.acted(this.model, u, i, event.ts);
    this.knn.observe(u, i, event);
    this.content.observe(u, i, event);
    this.mf?.observe(u, i, event);
    this.trending.observe(u, i, event);
    this.popular.observe(u, i, event);
    // catalog categories only for items (see TrendingRecommender.observe)
    this.cats.observe(u, i, event.category);
    if (event.ts > this.now) this.now = event.ts;
    this.served?.drain(this.model, this.now);
    this.retriever?.afterLearn();
  }

  learnItem(item: ItemEvent): void {
    this.content.learnItem(item);
    this.trending.learnItem(item);
    if (item.category === undefined) return;
    const i = this.ctx.items.intern(item.itemId);
    if (i < 0) return;
    this.ensureItems(this.ctx.items.size);
    this.cats.learnItem(i, item.category);
  }

  /** MF factors of an item (for diversity by similarity), or undefined before MF saw it. */
  itemVector(itemId: string): Float32Array | undefined {
    const mf = this.mf;
    const i = this.ctx.items.get(itemId);
    if (!mf || i < 0 || i >= mf.Q.rows) return undefined;
    const d = mf.o.dim;
    return mf.Q.data.subarray(i * d, (i + 1) * d);
  }

  /** The item's category as last given by the catalog, if any. */
  itemCategory(itemId: string): string | undefined {
    return this.cats.categoryOf(this.ctx.items.get(itemId));
  }

  private ensureUsers(users: number): void {
    this.served?.ensureUsers(users);
    this.cats.ensureUsers(users);
  }

  private ensureItems(items: number): void {
    if (this.cands.covers(items)) return;
    this.cats.ensureItems(items);
    this.cands.ensureItems(items);
  }

  recommend(userId: string, k: number, exclude: ReadonlySet<string>): ScoredItem[] {
    const m = this.model;
    const items = this.ctx.items;
    this.ensureItems(items.size);
    const cats = this.cats;
    cats.refresh(items.size, this.popular.pop, this.trending.score, this.stage1);
    const u = this.ctx.users.get(userId);
    const knn = this.knn;
    const content = this.content;
    const mf = this.mf;
    const mfKnows = mf !== undefined && mf.knows(u);
    const cands = this.cands;
    cands.nominate(this, cats, this.o, u, mfKnows);
    const h = knn.history;
    const hLen = u >= 0 && u < h.len.length ? h.len[u] : 0;

    // stage 1: the wide (linear) score of every candidate, from locals (no feature rows yet)
    const n = cands.n;
    if (n > this.rec.length) this.rec = new Float64Array(Math.max(n, this.rec.length * 2));
    const rec = this.rec;
    rec.fill(0, 0, n);
    const list = cands.list;
    const maxK = knn.finalizeScores();
    const invK = maxK > 0 ? 1 / maxK : 0;
    const maxC = content.maxScore();
    const invC = maxC > 0 ? 1 / maxC : 0;
    const invT = this.trending.maxScore > 0 ? 1 / this.trending.maxScore : 0;
    const invP = this.popular.maxPop > 0 ? 1 / this.popular.maxPop : 0;
    const session = hLen > 0 ? Math.exp(-Math.max(0, this.now - h.ts[h.start(u)]) / this.gapMs) : 0;
    const hist = Math.log1p(hLen) / Math.log1p(h.size);
    for (let p = 0; p < hLen; p++) {
      const e = h.start(u) + p;
      rec[cands.slotOf[h.items[e]]] = (isBuyCode(h.types[e]) ? 1 : 0.5) / (1 + p);
    }
    const tScore = this.trending.score;
    const pop = this.popular.pop;
    const kpop = knn.pop;
    const newUser = 1 / (1 + hLen);
    const hasCats = cats.categories.size > 0 && u >= 0;
    const nT = tScore.length;
    const nP = pop.length;
    const nKp = kpop.length;
    const w = m.wide;
    const wK = w[FI.knn] + w[FI.knn_x_session] * session;
    const wC = w[FI.content];
    const wCold = w[FI.content_x_cold];
    const wT = w[FI.trending];
    const wP = w[FI.popular] + w[FI.popular_x_new_user] * newUser;
    const wR = w[FI.recency];
    const wU = w[FI.user_category];
    const base = m.bias + w[FI.session] * session + w[FI.history] * hist;
    const stage1 = this.stage1;
    const keep = Math.max(this.depth, k);
    if (keep > this.preSlots.length) {
      this.preSlots = new Int32Array(keep);
      this.preScores = new Float64Array(keep);
    }
    stage1.reset(keep);
    for (let s = 0; s < n; s++) {
      const c = list[s];
      const xc = content.scoreOrZero(c) * invC;
      let v = base + wK * knn.scoreOrZero(c) * invK + wC * xc + wR * rec[s];
      if (c < nT) v += wT * tScore[c] * invT;
      if (c < nP) v += wP * pop[c] * invP;
      if (!(c < nKp && kpop[c] > 0)) v += wCold * xc;
      if (hasCats && cats.inUserCategory(u, c)) v += wU;
      if (stage1.accepts(s, v) && (exclude.size === 0 || !exclude.has(items.name(c))))
        stage1.push(s, v);
    }
    const pre = stage1.drain(this.preSlots, this.preScores);

    // feature rows of the survivors only (row t = stage-1 rank t)
    if (pre * F > this.X.length) this.X = growF32(this.X, pre * F);
    const X = this.X;
    for (let t = 0; t < pre; t++) {
      const s = this.preSlots[t];
      const c = list[s];
      const r = t * F;
      const xk = knn.scoreOrZero(c) * invK;
      const xc = content.scoreOrZero(c) * invC;
      const xp = c < nP ? pop[c] * invP : 0;
      X[r + FI.knn] = xk;
      X[r + FI.content] = xc;
      X[r + FI.trending] = c < nT ? tScore[c] * invT : 0;
      X[r + FI.popular] = xp;
      X[r + FI.mf] = 0;
      X[r + FI.recency] = rec[s];
      X[r + FI.user_category] = hasCats && cats.inUserCategory(u, c) ? 1 : 0;
      X[r + FI.session] = session;
      X[r + FI.history] = hist;
      X[r + FI.knn_x_session] = xk * session;
      X[r + FI.content_x_cold] = c < nKp && kpop[c] > 0 ? 0 : xc;
      X[r + FI.popular_x_new_user] = xp * newUser;
    }

    // stage 2: MF and the MLP on the best `depth`
    const deep = this.deep;
    const count = deep.rescore(m, X, pre, this.preScores, list, this.preSlots, mf, u);
    if (this.served && u >= 0) this.served.remember(u, count, deep.slots, this.preSlots, list, X);

    const out = new Array<ScoredItem>(Math.min(k, count));
    for (let t = 0; t < out.length; t++) {
      const row = deep.slots[t];
      const c = list[this.preSlots[row]];
      const r = row * F;
      out[t] = this.o.logFeatures
        ? {
            itemId: items.name(c),
            score: deep.scores[t],
            reason: cands.reasonFor(this, m, X, u, c, r),
            features: Array.from(X.subarray(r, r + F)),
          }
        : {
            itemId: items.name(c),
            score: deep.scores[t],
            reason: cands.reasonFor(this, m, X, u, c, r),
          };
    }
    return out;
  }

  snapshot(): Uint8Array {
    const w = new SnapshotWriter();
    w.set('model', this.name);
    this.ctx.save(w);
    this.knn.save(w.scope('itemknn.'));
    this.content.save(w.scope('content.'));
    this.mf?.save(w.scope('mf.'));
    this.trending.save(w.scope('trending.'));
    this.popular.save(w.scope('popular.'));
    w.set('ranker', modelToJson(this.model));
    this.cats.save(w, this.ctx.items.size, this.ctx.users.size);
    w.set('now', Number.isFinite(this.now) ? this.now : null);
    return w.encode();
  }

  restore(bytes: Uint8Array): void {
    const r = new SnapshotReader(decodeSnapshot(bytes));
    checkSnapshotModel(r, this.name);
    this.ctx.load(r);
    this.knn.load(r.scope('itemknn.'));
    this.content.load(r.scope('content.'));
    this.mf?.load(r.scope('mf.'));
    this.trending.load(r.scope('trending.'));
    this.popular.load(r.scope('popular.'));
    this.swapModel(modelFromJson(r.value('ranker')));
    this.cats.load(r, this.ctx.items.size, this.ctx.users.size);
    this.cands.clear();
    this.served?.clear();
    this.ensureItems(this.ctx.items.size);
    this.ensureUsers(this.ctx.users.size);
    const now = r.num('now');
    this.now = Number.isNaN(now) ? Number.NEGATIVE_INFINITY : now;
  }
}
