import type { ClickEvent, ItemEvent, ScoredItem } from './event.js';
import type { Recommender } from './recommender.js';
import { growF64, growI32, recentHas, touchRecent } from './core/arrays.js';
import { ModelContext, Ranker, ReasonCache } from './core/context.js';
import { DecayClock } from './core/decay.js';
import { IdMap } from './core/id-map.js';
import { stripUndefined } from './core/options.js';
import {
  SnapshotReader,
  SnapshotWriter,
  restoreComponent,
  snapshotComponent,
} from './core/snapshot.js';
import { TopK } from './core/topk.js';
import { DAY_MS, TYPE_CODE, weightTable, type EventWeights } from './core/weights.js';
import { SCALARS, TREND, type ItemDeltaRecord } from './core/item-deltas.js';

export interface TrendingOptions {
  /** Event-time half-life, in days (default 2): short, so it follows what is hot right now. */
  halfLifeDays?: number;
  /**
   * Score multiplier (1 + boost) for items in a category of the user's recent events
   * (default 1). Categories come from events' `category` or from the item catalog.
   */
  categoryBoost?: number;
  /** Recent categories remembered per user (default 3). */
  userCategories?: number;
  /** Size of the cached global top list that hybrids read candidates from (default 50). */
  topSize?: number;
  /** Events between refreshes of that cached list (default 200). */
  refreshEvery?: number;
  eventWeights?: Partial<EventWeights>;
}

const DEFAULTS: Required<Omit<TrendingOptions, 'eventWeights'>> = {
  halfLifeDays: 2,
  categoryBoost: 1,
  userCategories: 3,
  topSize: 50,
  refreshEvery: 200,
};

/**
 * Short-half-life decayed popularity, globally and within the categories a user has been
 * browsing. Reasons say which: "trending in <category>" or "trending now".
 */
export class TrendingRecommender implements Recommender {
  readonly name: string = 'trending';
  readonly ctx: ModelContext;
  private readonly o: Required<Omit<TrendingOptions, 'eventWeights'>>;
  private readonly weights: Float64Array;
  private readonly clock: DecayClock;
  /** decayed weighted mass per item (inflated units) */
  score = new Float64Array(0);
  /** max of `score` (scores only grow between rescales, so a running max is exact) */
  maxScore: number;
  readonly categories = new IdMap();
  /** category id per item, -1 unknown */
  private itemCat = new Int32Array(0);
  /** per user, the last `userCategories` distinct categories, newest first, -1 padded */
  private userCat = new Int32Array(0);
  private lastTs = 0;
  private sinceRefresh: number;
  private readonly topHeap: TopK;
  readonly topIds: Int32Array;
  readonly topScores: Float64Array;
  topLen = 0;
  private readonly ranker = new Ranker();
  private readonly inCat = new ReasonCache('trending in ');
  private boostedUser = -1;
  private readonly reasonOf = (c: number): string => this.reasonFor(this.boostedUser, c);

  constructor(opts: TrendingOptions = {}, ctx?: ModelContext) {
    this.o = { ...DEFAULTS, ...stripUndefined(opts) };
    this.ctx = ctx ?? new ModelContext();
    this.weights = weightTable(opts.eventWeights);
    this.clock = new DecayClock(this.o.halfLifeDays * DAY_MS);
    this.topHeap = new TopK(this.o.topSize);
    this.topIds = new Int32Array(this.o.topSize);
    this.topScores = new Float64Array(this.o.topSize);
    this.sinceRefresh = this.o.refreshEvery;
    this.maxScore = 0;
    this.ctx.tokenMap(this.categories);
    this.ctx.users.onRecycle((u) => {
      const n = this.o.userCategories;
      if ((u + 1) * n <= this.userCat.length) this.userCat.fill(-1, u * n, (u + 1) * n);
    });
  }

  learn(event: ClickEvent): void {
    const i = this.ctx.items.intern(event.itemId);
    if (i < 0) return; // the item space is full (limits.items)
    this.observe(this.ctx.users.intern(event.userId), i, event);
  }

  learnItem(item: ItemEvent): void {
    if (item.category === undefined) return;
    const i = this.ctx.items.intern(item.itemId);
    if (i < 0) return;
    this.ensure(this.ctx.users.size, this.ctx.items.size);
    // -1 (unknown) when limits.tokens categories are known already
    this.itemCat[i] = this.categories.intern(item.category);
  }

  observe(u: number, i: number, event: ClickEvent): void {
    this.ensure(this.ctx.users.size, this.ctx.items.size);
    // The item's category comes from the catalog only; the event's own category (if the catalog
    // knows it) counts for this user's recent categories, never for what others are shown.
    const own = event.category !== undefined ? this.categories.get(event.category) : -1;
    const cat = own >= 0 ? own : this.itemCat[i];
    if (cat >= 0) this.pushUserCategory(u, cat);
    const tw = this.weights[TYPE_CODE[event.type]];
    if (!(tw > 0) || this.ctx.userOnly) return;
    const f = this.clock.advance(event.ts);
    if (f !== 1) {
      for (let c = 0; c < this.score.length; c++) this.score[c] *= f;
      for (let t = 0; t < this.topLen; t++) this.topScores[t] *= f;
      this.maxScore *= f;
    }
    const add = tw * this.clock.weight(event.ts);
    const v = (this.score[i] += add);
    const d = this.ctx.deltas;
    if (d !== undefined) d.scalar(i, TREND, add * d.unit(TREND, this.clock));
    if (v > this.maxScore) this.maxScore = v;
    if (event.ts > this.lastTs) this.lastTs = event.ts;
    this.sinceRefresh++;
  }

  /** Another instance's trending mass (see ItemKnn's applyItemDeltas). */
  applyItemDeltas(ids: Int32Array, r: ItemDeltaRecord): void {
    this.ensure(this.ctx.users.size, this.ctx.items.size);
    const f = this.clock.advance(r.ref);
    if (f !== 1) {
      for (let c = 0; c < this.score.length; c++) this.score[c] *= f;
      for (let t = 0; t < this.topLen; t++) this.topScores[t] *= f;
      this.maxScore *= f;
    }
    const w = this.clock.weight(r.ref);
    for (let k = 0; k < r.scalarItems.length; k++) {
      const add = r.scalars[k * SCALARS + TREND];
      const i = ids[r.scalarItems[k]];
      if (i < 0 || add === 0) continue;
      const v = (this.score[i] += add * w);
      if (v > this.maxScore) this.maxScore = v;
      this.sinceRefresh++;
    }
    if (r.last > this.lastTs) this.lastTs = r.last;
  }

  private pushUserCategory(u: number, cat: number): void {
    touchRecent(this.userCat, u, this.o.userCategories, cat);
  }

  /** "trending in <category>" when c is in a category u browsed recently, else "trending now". */
  reasonFor(u: number, c: number): string {
    const cat = this.itemCat[c];
    return cat >= 0 && this.userHasCategory(u, cat)
      ? this.inCat.get(cat, this.categories)
      : 'trending now';
  }

  private userHasCategory(u: number, cat: number): boolean {
    if (u < 0 || (u + 1) * this.o.userCategories > this.userCat.length) return false;
    return recentHas(this.userCat, u, this.o.userCategories, cat);
  }

  private ensure(users: number, items: number): void {
    if (items > this.score.length) {
      const old = this.itemCat.length;
      this.score = growF64(this.score, items);
      this.itemCat = growI32(this.itemCat, items);
      this.itemCat.fill(-1, old);
    }
    const need = users * this.o.userCategories;
    if (need > this.userCat.length) {
      const old = this.userCat.length;
      this.userCat = growI32(this.userCat, need);
      this.userCat.fill(-1, old);
    }
  }

  /** Decayed mass as of the latest event: comparable across calls, unlike inflated units. */
  get unitScale(): number {
    return 1 / this.clock.weight(this.lastTs);
  }

  /** The cached global top list (refreshed every `refreshEvery` events); returns its length. */
  top(): number {
    if (this.sinceRefresh >= this.o.refreshEvery) {
      const h = this.topHeap;
      h.reset(this.o.topSize);
      const s = this.score;
      for (let c = 0, n = this.ctx.items.size; c < n; c++)
        if (s[c] > 0 && h.accepts(c, s[c])) h.push(c, s[c]);
      this.topLen = h.drain(this.topIds, this.topScores);
      this.sinceRefresh = 0;
    }
    return this.topLen;
  }

  recommend(userId: string, k: number, exclude: ReadonlySet<string>): ScoredItem[] {
    const items = this.ctx.items;
    const u = this.ctx.users.get(userId);
    this.boostedUser = u < 0 || u * this.o.userCategories >= this.userCat.length ? -1 : u;
    const r = this.ranker;
    r.begin(k);
    const s = this.score;
    const boost = 1 + this.o.categoryBoost;
    const hasCats =
      this.categories.size > 0 &&
      this.boostedUser >= 0 &&
      this.userCat[u * this.o.userCategories] >= 0;
    for (let c = 0, n = items.size; c < n; c++) {
      if (!(s[c] > 0)) continue;
      const cat = this.itemCat[c];
      r.offer(
        c,
        hasCats && cat >= 0 && this.userHasCategory(u, cat) ? s[c] * boost : s[c],
        items,
        exclude,
      );
    }
    return r.finish(items, this.reasonOf, this.unitScale);
  }

  save(w: SnapshotWriter): void {
    const items = this.ctx.items.size;
    w.set('origin', this.clock.origin);
    w.set('lastTs', this.lastTs);
    w.set('maxScore', this.maxScore);
    w.set('sinceRefresh', this.sinceRefresh);
    w.set('topLen', this.topLen);
    w.array('topIds', this.topIds, this.topLen);
    w.array('topScores', this.topScores, this.topLen);
    w.set('categories', this.categories.toArray());
    w.array('score', this.score, items);
    w.array('itemCat', this.itemCat, items);
    w.array('userCat', this.userCat, this.ctx.users.size * this.o.userCategories);
  }

  load(r: SnapshotReader): void {
    this.clock.origin = r.num('origin');
    this.lastTs = r.num('lastTs');
    this.categories.load(r.strings('categories'));
    this.score = new Float64Array(0);
    this.itemCat = new Int32Array(0);
    this.userCat = new Int32Array(0);
    this.ensure(this.ctx.users.size, this.ctx.items.size);
    this.score.set(r.f64('score'));
    this.itemCat.set(r.i32('itemCat'));
    this.userCat.set(r.i32('userCat'));
    this.maxScore = r.num('maxScore');
    this.sinceRefresh = r.num('sinceRefresh');
    this.topLen = r.num('topLen');
    this.topIds.set(r.i32('topIds'));
    this.topScores.set(r.f64('topScores'));
  }

  snapshot(): Uint8Array {
    return snapshotComponent(this);
  }

  restore(bytes: Uint8Array): void {
    restoreComponent(this, bytes);
  }
}
