import type { ClickEvent, ItemEvent, ScoredItem } from '../event.js';
import { ownValue } from '../core/own.js';
import type { Recommender } from '../recommender.js';
import { growF32, growI32, growU8, recentHas, touchRecent } from '../core/arrays.js';
import { ModelContext } from '../core/context.js';
import { IdMap } from '../core/id-map.js';
import { checkModel as checkSnapshotModel, stripUndefined } from '../core/options.js';
import { SnapshotReader, SnapshotWriter, decodeSnapshot } from '../core/snapshot.js';
import { TopK } from '../core/topk.js';
import { TYPE_CODE, isBuyCode } from '../core/weights.js';
import { ContentRecommender, type ContentOptions } from '../content.js';
import { ItemKnnRecommender, type ItemKnnOptions } from '../itemknn.js';
import { MfRecommender, type MfOptions } from '../mf.js';
import { PopularRecommender, type PopularOptions } from '../popular.js';
import { TrendingRecommender, type TrendingOptions } from '../trending.js';
import { MfRetriever, type MfRetrieverOptions } from '../retrieval/mf-retriever.js';
import {
  F,
  FEATURE_INDEX as FI,
  blendModel,
  checkModel,
  cloneModel,
  deepScore,
  hasDeep,
  modelToJson,
  type RankerModel,
} from './model.js';
import { OnlineRankLearner, PendingExamples, type OnlineRankOptions } from './online.js';

export interface RankedOptions {
  itemknn?: ItemKnnOptions;
  content?: ContentOptions;
  mf?: MfOptions;
  trending?: TrendingOptions;
  popular?: PopularOptions;
  /**
   * Best candidates of the wide (linear) stage that the MLP and MF re-score, and the rows of a
   * served list kept for online learning (default 20: 40 measured the same HR@10 on Online
   * Retail, 0.3375 against 0.3370, at 15% less throughput).
   */
  depth?: number;
  /** Global trending items added to every candidate set (default 20). */
  trendingCandidates?: number;
  /** Popular items added for users with no history (default 30). */
  popularCandidates?: number;
  /** Trending items per category the user browsed recently (default 10). */
  categoryCandidates?: number;
  /** Recent categories remembered per user (default 3). */
  userCategories?: number;
  /** Items retrieved by MF inner product (IVF index; default 0 = off). */
  mfCandidates?: number;
  /**
   * Learn MF and use its score as a feature (default false: on Online Retail it moved HR@10 by
   * less than 0.001 and cost 15% of the throughput; catalogues with richer histories may differ).
   */
  useMf?: boolean;
  /** Gap after which a user's next event starts a new session, minutes (default 60). */
  sessionGapMinutes?: number;
  /** Hidden units of the MLP (default 8). */
  hidden?: number;
  /** Learn the ranking model from served lists and the events that follow them. */
  online?: OnlineRankOptions & { enabled?: boolean };
  /** Users whose last served list is kept for online learning (default 4096). */
  servedCache?: number;
  /** Attach each item's feature vector to the served list (the nearline trainer's input). */
  logFeatures?: boolean;
  /** Events between refreshes of the popular and per-category trending lists (default 500). */
  refreshEvery?: number;
  retrieval?: MfRetrieverOptions;
}

const DEFAULTS = {
  depth: 20,
  trendingCandidates: 20,
  popularCandidates: 30,
  categoryCandidates: 10,
  userCategories: 3,
  mfCandidates: 0,
  useMf: false,
  sessionGapMinutes: 60,
  hidden: 8,
  servedCache: 4096,
  logFeatures: false,
  refreshEvery: 500,
};

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
 * optionally MF inner-product retrieval (IVF). Every candidate gets the FEATURES vector; a
 * linear stage keeps the best `depth`, which MF and the MLP re-score.
 *
 * The model starts as the transparent blend (model.ts) and learns online from served lists
 * (online.ts); a nearline trainer can replace it at any time with swapModel(), which is one
 * reference assignment: the next recommend() uses the new weights, none sees a mix.
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
  private readonly o: typeof DEFAULTS;
  /** rows kept per served list for online learning */
  private readonly depth: number;
  private model: RankerModel;
  private readonly learner: OnlineRankLearner | undefined;
  private readonly pending: PendingExamples | undefined;
  private readonly learnPending = (e: number): void => this.learnEntry(e);
  private entry = 0;
  private chkUser = 0;
  private chkBase = 0;
  private readonly notTakenCached = (r: number): boolean =>
    this.knn.history.indexOf(this.chkUser, this.cacheIds[this.chkBase + r]) < 0;
  /** A row of the pending entry is a negative unless the user has taken its item since. */
  private readonly notTakenSince = (r: number): boolean => {
    const p = this.pending as PendingExamples;
    const e = this.entry;
    return this.knn.history.indexOf(p.userOf(e), p.itemOf(e, r)) < 0;
  };
  private readonly gapMs: number;

  // catalogue categories, for the user_category feature and per-category trending
  private readonly categories = new IdMap();
  private itemCat = new Int32Array(0);
  private userCat = new Int32Array(0);
  private catTopIds = new Int32Array(0);
  private catTopScores = new Float64Array(0);
  private catTopLen = new Int32Array(0);
  private popTopIds: Int32Array;
  private popTopLen = 0;
  private sinceRefresh = Number.POSITIVE_INFINITY;
  private now = Number.NEGATIVE_INFINITY;

  // candidate scratch
  private stamp = new Int32Array(0);
  private slotOf = new Int32Array(0);
  private epoch = 0;
  private list = new Int32Array(0);
  private nominated = new Uint8Array(0);
  private n = 0;
  private X = new Float32Array(0);
  private rec = new Float64Array(0);
  private mfScratch = new Float64Array(0);
  private readonly stage1 = new TopK(64);
  private readonly stage2 = new TopK(64);
  private preSlots: Int32Array;
  private preScores: Float64Array;
  private finalSlots: Int32Array;
  private finalScores: Float64Array;
  private act = new Float32Array(0);
  private readonly mfHeap = new TopK(16);
  private mfIds = new Int32Array(16);
  private mfScores = new Float64Array(16);

  // the last list served to each of the most recent users: rows in served order
  private readonly cacheSize: number;
  private cacheUser: Int32Array;
  private cacheCount: Int32Array;
  private cacheIds: Int32Array;
  private cacheRows: Float32Array;
  private userSlot = new Int32Array(0);
  private cacheNext = 0;

  constructor(opts: RankedOptions = {}) {
    const o = (this.o = { ...DEFAULTS, ...stripUndefined(opts) } as typeof DEFAULTS);
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
    this.learner =
      opts.online?.enabled === false ? undefined : new OnlineRankLearner(opts.online, this.model);
    this.pending = this.learner
      ? new PendingExamples(this.learner.o.pending, Math.max(1, o.depth))
      : undefined;
    this.gapMs = o.sessionGapMinutes * 60_000;
    this.popTopIds = new Int32Array(Math.max(1, o.popularCandidates));
    const depth = (this.depth = Math.max(1, o.depth));
    this.preSlots = new Int32Array(depth);
    this.preScores = new Float64Array(depth);
    this.finalSlots = new Int32Array(depth);
    this.finalScores = new Float64Array(depth);
    this.cacheSize = Math.max(1, o.servedCache);
    this.cacheUser = new Int32Array(this.cacheSize).fill(-1);
    this.cacheCount = new Int32Array(this.cacheSize);
    this.cacheIds = new Int32Array(this.cacheSize * depth);
    this.cacheRows = new Float32Array(this.cacheSize * depth * F);
    this.ctx.tokenMap(this.categories);
    // A recycled user row: its served-list cache slot and recent categories were someone else's.
    // (A queued example of the old user may still land on the row's new user's history check;
    // it only decides which of that list's items count as negatives.)
    this.ctx.users.onRecycle((u) => {
      const slot = u < this.userSlot.length ? this.userSlot[u] : -1;
      if (slot >= 0) {
        this.cacheUser[slot] = -1;
        this.cacheCount[slot] = 0;
        this.userSlot[u] = -1;
      }
      const n = this.o.userCategories;
      if ((u + 1) * n <= this.userCat.length) this.userCat.fill(-1, u * n, (u + 1) * n);
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
    return this.learner?.updates ?? 0;
  }

  /**
   * Replaces the scoring weights atomically (a nearline trainer calls this between batches or
   * mid-stream; JavaScript runs one recommend() at a time, and each reads the reference once).
   * Online learning continues from the new weights and is anchored to them.
   */
  swapModel(next: RankerModel): void {
    checkModel(next);
    if (next.hidden !== this.model.hidden && this.act.length < next.hidden)
      this.act = new Float32Array(next.hidden);
    const m = cloneModel(next);
    this.learner?.anchor(m);
    this.model = m;
  }

  learn(event: ClickEvent): void {
    const i = this.ctx.items.intern(event.itemId);
    if (i < 0) return; // the item space is full (limits.items)
    const u = this.ctx.users.intern(event.userId);
    this.ensureUsers(this.ctx.users.size);
    this.ensureItems(this.ctx.items.size);
    if (this.learner && POSITIVE[TYPE_CODE[event.type]] === 1) this.queueServed(u, i, event.ts);
    this.knn.observe(u, i, event);
    this.content.observe(u, i, event);
    this.mf?.observe(u, i, event);
    this.trending.observe(u, i, event);
    this.popular.observe(u, i, event);
    // catalog categories only for items (see TrendingRecommender.observe)
    const own = event.category !== undefined ? this.categories.get(event.category) : -1;
    const cat = own >= 0 ? own : this.itemCat[i];
    if (cat >= 0) this.pushUserCategory(u, cat);
    if (event.ts > this.now) this.now = event.ts;
    this.sinceRefresh++;
    this.pending?.drain(this.now, (this.learner as OnlineRankLearner).o.delayMs, this.learnPending);
    this.retriever?.afterLearn();
  }

  learnItem(item: ItemEvent): void {
    this.content.learnItem(item);
    this.trending.learnItem(item);
    if (item.category === undefined) return;
    const i = this.ctx.items.intern(item.itemId);
    if (i < 0) return;
    this.ensureItems(this.ctx.items.size);
    this.itemCat[i] = this.categories.intern(item.category);
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
    const i = this.ctx.items.get(itemId);
    if (i < 0 || i >= this.itemCat.length || this.itemCat[i] < 0) return undefined;
    return this.categories.name(this.itemCat[i]);
  }

  /** The user acted on item i: if it was in the list last served to them, queue that list. */
  private queueServed(u: number, i: number, ts: number): void {
    const slot = u < this.userSlot.length ? this.userSlot[u] : -1;
    if (slot < 0) return;
    const depth = this.depth;
    const count = this.cacheCount[slot];
    const base = slot * depth;
    for (let r = 0; r < count; r++) {
      if (this.cacheIds[base + r] !== i) continue;
      const learner = this.learner as OnlineRankLearner;
      if (learner.o.delayMs <= 0) {
        // no delay: learn from the cached rows in place, no copy through the queue
        this.chkUser = u;
        this.chkBase = base;
        const rows = this.cacheRows.subarray(base * F, (base + count) * F);
        learner.update(this.model, rows, count, r, this.notTakenCached);
        if (!this.model.version.endsWith('+online')) this.model.version += '+online';
        return;
      }
      (this.pending as PendingExamples).push(
        u,
        ts,
        this.cacheIds,
        this.cacheRows,
        base,
        count,
        r,
        this.learnPending,
      );
      return;
    }
  }

  /** A queued list's delay is over: rows the user has since taken are not negatives. */
  private learnEntry(e: number): void {
    const p = this.pending as PendingExamples;
    this.entry = e;
    (this.learner as OnlineRankLearner).update(
      this.model,
      p.rowsOf(e),
      p.countOf(e),
      p.posOf(e),
      this.notTakenSince,
    );
    if (!this.model.version.endsWith('+online')) this.model.version += '+online';
  }

  private ensureUsers(users: number): void {
    if (users > this.userSlot.length) {
      const old = this.userSlot.length;
      this.userSlot = growI32(this.userSlot, users);
      this.userSlot.fill(-1, old);
    }
    const need = users * this.o.userCategories;
    if (need > this.userCat.length) {
      const old = this.userCat.length;
      this.userCat = growI32(this.userCat, need);
      this.userCat.fill(-1, old);
    }
  }

  private ensureItems(items: number): void {
    if (items <= this.stamp.length) return;
    const old = this.itemCat.length;
    this.itemCat = growI32(this.itemCat, items);
    this.itemCat.fill(-1, old);
    this.stamp = growI32(this.stamp, items);
    this.slotOf = growI32(this.slotOf, items);
    this.list = growI32(this.list, items);
    this.nominated = growU8(this.nominated, items);
  }

  private pushUserCategory(u: number, cat: number): void {
    touchRecent(this.userCat, u, this.o.userCategories, cat);
  }

  private inUserCategory(u: number, c: number): boolean {
    const cat = this.itemCat[c];
    if (cat < 0 || u < 0) return false;
    return recentHas(this.userCat, u, this.o.userCategories, cat);
  }

  /** Popular top list and per-category trending lists, rebuilt every `refreshEvery` events. */
  private refreshLists(): void {
    if (this.sinceRefresh < this.o.refreshEvery) return;
    this.sinceRefresh = 0;
    const nItems = this.ctx.items.size;
    const pop = this.popular.pop;
    const h = this.stage1;
    h.reset(this.popTopIds.length);
    for (let c = 0; c < Math.min(nItems, pop.length); c++) if (pop[c] > 0) h.offer(c, pop[c]);
    this.popTopLen = h.drain(this.popTopIds, new Float64Array(this.popTopIds.length));
    const C = this.o.categoryCandidates;
    const nCat = this.categories.size;
    if (C <= 0 || nCat === 0) return;
    if (this.catTopLen.length < nCat) {
      this.catTopLen = new Int32Array(nCat);
      this.catTopIds = new Int32Array(nCat * C);
      this.catTopScores = new Float64Array(nCat * C);
    }
    this.catTopLen.fill(0);
    const s = this.trending.score;
    for (let c = 0; c < Math.min(nItems, s.length); c++) {
      const cat = this.itemCat[c];
      const v = s[c];
      if (cat < 0 || !(v > 0)) continue;
      // sorted insert into a list of at most C
      const base = cat * C;
      let len = this.catTopLen[cat];
      if (len === C && v <= this.catTopScores[base + C - 1]) continue;
      if (len < C) this.catTopLen[cat] = ++len;
      let p = len - 1;
      while (p > 0 && this.catTopScores[base + p - 1] < v) {
        this.catTopScores[base + p] = this.catTopScores[base + p - 1];
        this.catTopIds[base + p] = this.catTopIds[base + p - 1];
        p--;
      }
      this.catTopScores[base + p] = v;
      this.catTopIds[base + p] = c;
    }
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

  recommend(userId: string, k: number, exclude: ReadonlySet<string>): ScoredItem[] {
    const m = this.model;
    const items = this.ctx.items;
    this.ensureItems(items.size);
    this.refreshLists();
    const u = this.ctx.users.get(userId);
    this.epoch++;
    this.n = 0;

    const knn = this.knn;
    const nk = knn.collect(u);
    for (let t = 0; t < nk; t++) this.add(knn.candidate(t), BY_KNN);
    const content = this.content;
    const nc = content.collect(u);
    for (let t = 0; t < nc; t++) this.add(content.candidate(t), BY_CONTENT);
    const nt = Math.min(this.trending.top(), this.o.trendingCandidates);
    for (let t = 0; t < nt; t++) this.add(this.trending.topIds[t], BY_TREND);
    const C = this.o.categoryCandidates;
    if (u >= 0 && C > 0 && this.catTopLen.length > 0) {
      const nUc = this.o.userCategories;
      for (let p = u * nUc; p < (u + 1) * nUc; p++) {
        const cat = this.userCat[p];
        if (cat < 0 || cat >= this.catTopLen.length) continue;
        for (let t = 0; t < this.catTopLen[cat]; t++)
          this.add(this.catTopIds[cat * C + t], BY_CATEGORY);
      }
    }
    const h = knn.history;
    const hLen = u >= 0 && u < h.len.length ? h.len[u] : 0;
    if (hLen === 0)
      for (let t = 0; t < this.popTopLen; t++) this.add(this.popTopIds[t], BY_POPULAR);
    for (let p = 0; p < hLen; p++) this.add(h.items[u * h.size + p], BY_RECENT);
    const mf = this.mf;
    const mfKnows = mf !== undefined && mf.knows(u);
    if (this.retriever && mfKnows && this.o.mfCandidates > 0) {
      const kk = this.o.mfCandidates;
      if (kk > this.mfIds.length) {
        this.mfIds = new Int32Array(kk);
        this.mfScores = new Float64Array(kk);
      }
      this.mfHeap.reset(kk);
      this.retriever.searchInto(u, this.mfHeap);
      const got = this.mfHeap.drain(this.mfIds, this.mfScores);
      for (let t = 0; t < got; t++) this.add(this.mfIds[t], BY_MF);
    }

    // stage 1: the wide (linear) score of every candidate, from locals (no feature rows yet)
    const n = this.n;
    if (n > this.rec.length) this.rec = new Float64Array(Math.max(n, this.rec.length * 2));
    const rec = this.rec;
    rec.fill(0, 0, n);
    const list = this.list;
    const maxK = knn.finalizeScores();
    const invK = maxK > 0 ? 1 / maxK : 0;
    const maxC = content.maxScore();
    const invC = maxC > 0 ? 1 / maxC : 0;
    const invT = this.trending.maxScore > 0 ? 1 / this.trending.maxScore : 0;
    const invP = this.popular.maxPop > 0 ? 1 / this.popular.maxPop : 0;
    const session = hLen > 0 ? Math.exp(-Math.max(0, this.now - h.ts[u * h.size]) / this.gapMs) : 0;
    const hist = Math.log1p(hLen) / Math.log1p(h.size);
    for (let p = 0; p < hLen; p++) {
      const e = u * h.size + p;
      rec[this.slotOf[h.items[e]]] = (isBuyCode(h.types[e]) ? 1 : 0.5) / (1 + p);
    }
    const tScore = this.trending.score;
    const pop = this.popular.pop;
    const kpop = knn.pop;
    const newUser = 1 / (1 + hLen);
    const hasCats = this.categories.size > 0 && u >= 0;
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
      if (hasCats && this.inUserCategory(u, c)) v += wU;
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
      X[r + FI.user_category] = hasCats && this.inUserCategory(u, c) ? 1 : 0;
      X[r + FI.session] = session;
      X[r + FI.history] = hist;
      X[r + FI.knn_x_session] = xk * session;
      X[r + FI.content_x_cold] = c < nKp && kpop[c] > 0 ? 0 : xc;
      X[r + FI.popular_x_new_user] = xp * newUser;
    }

    // stage 2: MF and the MLP on the best `depth`
    if (this.act.length < m.hidden) this.act = new Float32Array(m.hidden);
    if (pre > this.mfScratch.length) this.mfScratch = new Float64Array(pre);
    if (mfKnows && w[FI.mf] !== 0) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      const mfr = mf as MfRecommender;
      const rows = mfr.Q.rows;
      for (let t = 0; t < pre; t++) {
        const c = list[this.preSlots[t]];
        const v = c < rows ? mfr.predict(u, c) : 0;
        this.mfScratch[t] = v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const inv = hi > lo ? 1 / (hi - lo) : 0;
      for (let t = 0; t < pre; t++) X[t * F + FI.mf] = (this.mfScratch[t] - lo) * inv;
    }
    if (pre > this.finalSlots.length) {
      this.finalSlots = new Int32Array(pre);
      this.finalScores = new Float64Array(pre);
    }
    const wMf = w[FI.mf];
    const deep = hasDeep(m);
    let count = pre;
    if (deep || (mfKnows && wMf !== 0)) {
      const stage2 = this.stage2;
      stage2.reset(pre);
      for (let t = 0; t < pre; t++) {
        const d = deep ? deepScore(m, X, t * F, this.act) : 0;
        stage2.push(t, this.preScores[t] + wMf * X[t * F + FI.mf] + d);
      }
      count = stage2.drain(this.finalSlots, this.finalScores);
    } else {
      // nothing re-scores: the wide stage's order is final
      for (let t = 0; t < pre; t++) {
        this.finalSlots[t] = t;
        this.finalScores[t] = this.preScores[t];
      }
    }
    if (this.learner && u >= 0) this.remember(u, count);

    const out = new Array<ScoredItem>(Math.min(k, count));
    for (let t = 0; t < out.length; t++) {
      const row = this.finalSlots[t];
      const c = list[this.preSlots[row]];
      const r = row * F;
      out[t] = this.o.logFeatures
        ? {
            itemId: items.name(c),
            score: this.finalScores[t],
            reason: this.reasonFor(m, u, c, r),
            features: Array.from(X.subarray(r, r + F)),
          }
        : { itemId: items.name(c), score: this.finalScores[t], reason: this.reasonFor(m, u, c, r) };
    }
    return out;
  }

  /** Keeps the served rows (served order) of user u for learnFromServed. */
  private remember(u: number, count: number): void {
    let slot = this.userSlot[u];
    if (slot < 0) {
      slot = this.cacheNext;
      this.cacheNext = (this.cacheNext + 1) % this.cacheSize;
      const prev = this.cacheUser[slot];
      if (prev >= 0) this.userSlot[prev] = -1;
      this.cacheUser[slot] = u;
      this.userSlot[u] = slot;
    }
    const depth = this.depth;
    const n = Math.min(count, depth);
    const base = slot * depth;
    const X = this.X;
    const rows = this.cacheRows;
    for (let t = 0; t < n; t++) {
      const row = this.finalSlots[t];
      this.cacheIds[base + t] = this.list[this.preSlots[row]];
      // a plain loop: subarray() would allocate a view per row on the hot path
      for (let f = 0, from = row * F, to = (base + t) * F; f < F; f++) rows[to + f] = X[from + f];
    }
    this.cacheCount[slot] = n;
  }

  /** The generator that contributes most to the item's score says why it is shown. */
  private reasonFor(m: RankerModel, u: number, c: number, r: number): string {
    const X = this.X;
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
      if (this.knn.isCandidate(c)) return this.knn.reasonFor(c);
    if (which === FI.content || (which < 0 && by & BY_CONTENT))
      if (this.content.isCandidate(c)) return this.content.reasonFor(c);
    if (which === FI.recency || (which < 0 && by & BY_RECENT)) {
      const h = this.knn.history;
      const p = u >= 0 ? h.indexOf(u, c) : -1;
      if (p >= 0)
        return isBuyCode(h.types[u * h.size + p])
          ? 'still in your cart'
          : 'you viewed this recently';
    }
    if (which === FI.mf || (which < 0 && by & BY_MF)) return 'matches your taste';
    if (which === FI.popular || (which < 0 && by & BY_POPULAR)) return 'popular now';
    // trending, trending in one of the user's categories, or nothing stood out
    return this.trending.reasonFor(u, c);
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
    w.set('categories', this.categories.toArray());
    w.array('itemCat', this.itemCat, this.ctx.items.size);
    w.array('userCat', this.userCat, this.ctx.users.size * this.o.userCategories);
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
    this.categories.load(r.strings('categories'));
    this.itemCat = new Int32Array(0);
    this.userCat = new Int32Array(0);
    this.stamp = new Int32Array(0);
    this.userSlot = new Int32Array(0);
    this.ensureItems(this.ctx.items.size);
    this.ensureUsers(this.ctx.users.size);
    this.itemCat.set(r.i32('itemCat'));
    this.userCat.set(r.i32('userCat'));
    const now = r.num('now');
    this.now = Number.isNaN(now) ? Number.NEGATIVE_INFINITY : now;
    this.cacheUser.fill(-1);
    this.sinceRefresh = Number.POSITIVE_INFINITY;
  }
}

/** Inverse of modelToJson; throws on anything that does not fit. */
export function modelFromJson(v: unknown): RankerModel {
  const o = v as Record<string, unknown>;
  const arr = (k: string): Float32Array => {
    const a = o !== null && typeof o === 'object' ? ownValue(o, k) : undefined;
    if (!Array.isArray(a) || a.some((x) => typeof x !== 'number'))
      throw new Error(`ranker model JSON: ${k} is not a number list`);
    return Float32Array.from(a as number[]);
  };
  const m: RankerModel = {
    version: typeof o?.version === 'string' ? o.version : 'restored',
    hidden: Number(o?.hidden),
    wide: arr('wide'),
    bias: Number(o?.bias),
    w1: arr('w1'),
    b1: arr('b1'),
    w2: arr('w2'),
    b2: Number(o?.b2),
  };
  checkModel(m);
  return m;
}
