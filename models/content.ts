import type { ClickEvent, ItemEvent, ScoredItem } from './event.js';
import type { Recommender } from './recommender.js';
import { growF64, growI32 } from './core/arrays.js';
import { ModelContext, Ranker, ReasonCache } from './core/context.js';
import { UserHistory } from './core/history.js';
import { IdMap } from './core/id-map.js';
import { stripUndefined } from './core/options.js';
import {
  SnapshotReader,
  SnapshotWriter,
  restoreComponent,
  snapshotComponent,
} from './core/snapshot.js';
import { TopK } from './core/topk.js';
import { TYPE_CODE } from './core/weights.js';

export interface ContentOptions {
  /** Similar items kept per item (default 30). */
  neighbors?: number;
  /** Recent items per user whose similar items are recommended (default 3). */
  historySize?: number;
  /** Vote of the p-th most recent item is positionDecay^p (default 0.5). */
  positionDecay?: number;
  /**
   * Also treat id prefixes as tokens (first 4 and 5 characters): catalogues such as Online
   * Retail number product families and variants consecutively (default true).
   */
  idPrefixTokens?: boolean;
  /**
   * Tokens already carried by more than this many items say little and cost a lot, so they do
   * not link new items (default 200).
   */
  maxDocFrequency?: number;
}

const DEFAULTS: Required<ContentOptions> = {
  neighbors: 30,
  historySize: 3,
  positionDecay: 0.5,
  idPrefixTokens: true,
  maxDocFrequency: 200,
};

const NO_TOKENS = new Int32Array(0);

/**
 * Content similarity from item titles (the catalog's `title` and `category`, topic `items`):
 * TF-IDF cosine over title words (and id prefixes). It needs no co-occurrence, so it can
 * recommend items nobody has bought together yet, e.g. new stock or the other colours of a design.
 */
export class ContentRecommender implements Recommender {
  readonly name: string = 'content';
  readonly ctx: ModelContext;
  private readonly o: Required<ContentOptions>;
  readonly history: UserHistory;
  private readonly tokens = new IdMap();
  private df = new Int32Array(0);
  private postings: Int32Array[] = [];
  private itemTokens: Int32Array[] = [];
  /** per item, its most similar items, best first */
  private simIds: Int32Array[] = [];
  private simVals: Float32Array[] = [];
  private simLen = new Int32Array(0);
  private readonly heap: TopK;
  private readonly heapIds: Int32Array;
  private readonly heapScores: Float64Array;
  private accum = new Float64Array(0);
  private stamp = new Int32Array(0);
  private touchedList = new Int32Array(0);
  private epoch = 0;
  // recommend scratch
  private cand = new Float64Array(0);
  private best = new Float64Array(0);
  private src = new Int32Array(0);
  private cstamp = new Int32Array(0);
  private cepoch = 0;
  private touched = new Int32Array(0);
  private nTouched = 0;
  private readonly posWeight: Float64Array;
  private srcUser = -1;
  private readonly ranker = new Ranker();
  private readonly similarTo = new ReasonCache('similar to ');
  private readonly reasonOf = (c: number): string => this.reasonFor(c);

  constructor(opts: ContentOptions = {}, ctx?: ModelContext) {
    this.o = { ...DEFAULTS, ...stripUndefined(opts) };
    this.ctx = ctx ?? new ModelContext();
    this.history = new UserHistory(this.o.historySize);
    this.heap = new TopK(this.o.neighbors);
    this.heapIds = new Int32Array(this.o.neighbors);
    this.heapScores = new Float64Array(this.o.neighbors);
    this.posWeight = new Float64Array(this.o.historySize);
    for (let p = 0; p < this.o.historySize; p++)
      this.posWeight[p] = Math.pow(this.o.positionDecay, p);
    this.ctx.tokenMap(this.tokens);
    this.ctx.users.onRecycle((u) => this.history.forget(u));
  }

  learn(event: ClickEvent): void {
    const i = this.ctx.items.intern(event.itemId);
    if (i < 0) return; // the item space is full (limits.items)
    this.observe(this.ctx.users.intern(event.userId), i, event);
  }

  learnItem(item: ItemEvent): void {
    const i = this.ctx.items.intern(item.itemId);
    if (i < 0) return;
    this.ensure(this.ctx.users.size, this.ctx.items.size);
    if (item.title !== undefined || item.category !== undefined)
      this.index(i, item.title ?? '', item.category);
  }

  observe(u: number, i: number, event: ClickEvent): void {
    this.ensure(this.ctx.users.size, this.ctx.items.size);
    // Titles and categories come from the catalog (learnItem) only: a click's props.title must
    // not decide what is "similar" for every other shopper. An item clicked before the catalog
    // named it is indexed by its id prefixes.
    if (this.itemTokens[i] === NO_TOKENS) this.index(i, '', undefined);
    if (TYPE_CODE[event.type] !== TYPE_CODE.remove_from_cart)
      this.history.push(u, i, event.ts, TYPE_CODE[event.type]);
  }

  /** Items another instance learned from: indexed by id prefixes, as a click here would. */
  touchItems(ids: Int32Array): void {
    this.ensure(this.ctx.users.size, this.ctx.items.size);
    for (const i of ids)
      if (i >= 0 && this.itemTokens[i] === NO_TOKENS) this.index(i, '', undefined);
  }

  /** Tokens are fixed at an item's first sight: re-indexing would invalidate cached lists. */
  private index(i: number, title: string, category?: string): void {
    if (this.itemTokens[i] !== NO_TOKENS) return;
    const id = this.ctx.items.name(i);
    const words = title.toUpperCase().split(/[^A-Z0-9]+/);
    const ids: number[] = [];
    const add = (tok: string): void => {
      const t = this.tokens.intern(tok);
      if (t < 0 || ids.includes(t)) return; // t < 0: limits.tokens reached
      ids.push(t);
      if (t >= this.df.length) this.df = growI32(this.df, t + 1);
      this.df[t]++;
      if (this.postings.length <= t) this.postings.push(NO_TOKENS);
      let post = this.postings[t];
      const n = this.df[t];
      if (n > post.length) {
        const grown = new Int32Array(Math.max(4, post.length * 2));
        grown.set(post);
        this.postings[t] = post = grown;
      }
      post[n - 1] = i;
    };
    for (const w of words) if (w.length >= 3 && !/^\d+$/.test(w)) add(w);
    // the category is one more token: new items of a small category find their siblings even
    // with unrelated titles (large categories pass maxDocFrequency and stop linking)
    if (category !== undefined && category.length > 0) add(`#c:${category}`);
    if (this.o.idPrefixTokens && id.length >= 5) {
      add(`#4:${id.slice(0, 4)}`);
      add(`#5:${id.slice(0, 5)}`);
    }
    this.itemTokens[i] = Int32Array.from(ids);
    this.link(i);
  }

  private ensure(users: number, items: number): void {
    this.history.ensureUsers(users);
    if (items <= this.itemTokens.length) return;
    for (let i = this.itemTokens.length; i < items; i++) {
      this.itemTokens.push(NO_TOKENS);
      this.simIds.push(EMPTY_I32);
      this.simVals.push(EMPTY_F32);
    }
    this.simLen = growI32(this.simLen, items);
    this.accum = growF64(this.accum, items);
    this.stamp = growI32(this.stamp, items);
    this.touchedList = growI32(this.touchedList, items);
    this.cand = growF64(this.cand, items);
    this.best = growF64(this.best, items);
    this.src = growI32(this.src, items);
    this.cstamp = growI32(this.cstamp, items);
    this.touched = growI32(this.touched, items);
  }

  private idf(t: number): number {
    return Math.log((this.ctx.items.size + 1) / this.df[t]);
  }

  private norm2(c: number): number {
    const toks = this.itemTokens[c];
    let s = 0;
    for (let a = 0; a < toks.length; a++) {
      const idf = this.idf(toks[a]);
      s += idf * idf;
    }
    return s > 0 ? s : 1;
  }

  /**
   * Links a newly indexed item both ways: its own list is computed from the postings, and it
   * enters the list of every item it now outranks there. Similarities of existing pairs do not
   * change (idf drift aside), so the lists stay the top-m without ever being recomputed.
   */
  private link(i: number): void {
    const toks = this.itemTokens[i];
    const maxDf = this.o.maxDocFrequency;
    this.epoch++;
    let nt = 0;
    for (let a = 0; a < toks.length; a++) {
      const t = toks[a];
      if (this.df[t] > maxDf) continue;
      const idf = this.idf(t);
      const w = idf * idf;
      const post = this.postings[t];
      for (let p = 0, n = this.df[t]; p < n; p++) {
        const c = post[p];
        if (c === i) continue;
        if (this.stamp[c] !== this.epoch) {
          this.stamp[c] = this.epoch;
          this.accum[c] = w;
          this.touchedList[nt++] = c;
        } else this.accum[c] += w;
      }
    }
    const normI = this.norm2(i);
    const h = this.heap;
    h.reset(this.o.neighbors);
    for (let x = 0; x < nt; x++) {
      const c = this.touchedList[x];
      const sim = this.accum[c] / Math.sqrt(normI * this.norm2(c));
      h.offer(c, sim);
      this.insert(c, i, sim);
    }
    const n = h.drain(this.heapIds, this.heapScores);
    this.allocList(i);
    for (let x = 0; x < n; x++) {
      this.simIds[i][x] = this.heapIds[x];
      this.simVals[i][x] = this.heapScores[x];
    }
    this.simLen[i] = n;
  }

  private allocList(i: number): void {
    if (this.simIds[i].length === 0) {
      this.simIds[i] = new Int32Array(this.o.neighbors);
      this.simVals[i] = new Float32Array(this.o.neighbors);
    }
  }

  /** Puts (col, sim) into row's sorted list if it ranks there (sim desc, id asc). */
  private insert(row: number, col: number, sim: number): void {
    const m = this.o.neighbors;
    let len = this.simLen[row];
    this.allocList(row);
    const ids = this.simIds[row];
    const vals = this.simVals[row];
    const v = Math.fround(sim);
    if (len === m) {
      const lv = vals[m - 1];
      if (!(v > lv || (v === lv && col < ids[m - 1]))) return;
      len = m - 1;
    } else this.simLen[row] = len + 1;
    let p = len;
    while (p > 0 && (v > vals[p - 1] || (v === vals[p - 1] && col < ids[p - 1]))) {
      ids[p] = ids[p - 1];
      vals[p] = vals[p - 1];
      p--;
    }
    ids[p] = col;
    vals[p] = v;
  }

  simIdsOf(i: number): Int32Array {
    return this.simIds[i];
  }

  simValsOf(i: number): Float32Array {
    return this.simVals[i];
  }

  /** Accumulates similarity to u's recent items; see ItemKnnRecommender.collect. */
  collect(u: number): number {
    this.cepoch++;
    this.nTouched = 0;
    this.srcUser = u;
    if (u < 0 || u >= this.history.len.length) return 0;
    const h = this.history;
    const base = u * h.size;
    for (let p = 0, n = h.len[u]; p < n; p++) {
      const j = h.items[base + p];
      const m = this.simLen[j];
      const ids = this.simIds[j];
      const vals = this.simVals[j];
      const wj = this.posWeight[p];
      for (let t = 0; t < m; t++) {
        const c = ids[t];
        const v = wj * vals[t];
        if (this.cstamp[c] !== this.cepoch) {
          this.cstamp[c] = this.cepoch;
          this.cand[c] = v;
          this.best[c] = v;
          this.src[c] = p;
          this.touched[this.nTouched++] = c;
        } else {
          this.cand[c] += v;
          if (v > this.best[c]) {
            this.best[c] = v;
            this.src[c] = p;
          }
        }
      }
    }
    return this.nTouched;
  }

  candidate(t: number): number {
    return this.touched[t];
  }

  isCandidate(c: number): boolean {
    return this.cstamp[c] === this.cepoch;
  }

  score(c: number): number {
    return this.cand[c];
  }

  /** score(c) for candidates of the last collect(), 0 for anything else. */
  scoreOrZero(c: number): number {
    return this.cstamp[c] === this.cepoch ? this.cand[c] : 0;
  }

  /** Largest candidate score of the last collect(). */
  maxScore(): number {
    let max = 0;
    for (let t = 0; t < this.nTouched; t++) {
      const v = this.cand[this.touched[t]];
      if (v > max) max = v;
    }
    return max;
  }

  reasonFor(c: number): string {
    const j = this.history.items[this.srcUser * this.history.size + this.src[c]];
    return this.similarTo.get(j, this.ctx.items);
  }

  recommend(userId: string, k: number, exclude: ReadonlySet<string>): ScoredItem[] {
    const items = this.ctx.items;
    const n = this.collect(this.ctx.users.get(userId));
    const r = this.ranker;
    r.begin(k);
    for (let t = 0; t < n; t++) {
      const c = this.touched[t];
      r.offer(c, this.cand[c], items, exclude);
    }
    return r.finish(items, this.reasonOf);
  }

  save(w: SnapshotWriter): void {
    // titles are re-tokenised on restore from the stored token lists
    const items = this.ctx.items.size;
    let total = 0;
    for (let i = 0; i < items; i++) total += this.itemTokens[i].length;
    const ptr = new Int32Array(items + 1);
    const toks = new Int32Array(total);
    let o = 0;
    for (let i = 0; i < items; i++) {
      ptr[i] = o;
      toks.set(this.itemTokens[i], o);
      o += this.itemTokens[i].length;
    }
    ptr[items] = o;
    w.set('tokens', this.tokens.toArray());
    w.array('ptr', ptr);
    w.array('toks', toks);
    w.array(
      'indexed',
      Uint8Array.from(this.itemTokens.slice(0, items), (t) => (t === NO_TOKENS ? 0 : 1)),
    );
    // lists go verbatim: they were built incrementally with the idf of their time
    let totalSim = 0;
    for (let i = 0; i < items; i++) totalSim += this.simLen[i];
    const sptr = new Int32Array(items + 1);
    const sids = new Int32Array(totalSim);
    const svals = new Float32Array(totalSim);
    o = 0;
    for (let i = 0; i < items; i++) {
      sptr[i] = o;
      const n = this.simLen[i];
      sids.set(this.simIds[i].subarray(0, n), o);
      svals.set(this.simVals[i].subarray(0, n), o);
      o += n;
    }
    sptr[items] = o;
    w.array('sptr', sptr);
    w.array('sids', sids);
    w.array('svals', svals);
    this.history.save(w.scope('hist.'), this.ctx.users.size);
  }

  load(r: SnapshotReader): void {
    this.tokens.load(r.strings('tokens'));
    const ptr = r.i32('ptr');
    const toks = r.i32('toks');
    const indexed = r.u8('indexed');
    this.itemTokens = [];
    this.simIds = [];
    this.simVals = [];
    this.simLen = new Int32Array(0);
    this.df = new Int32Array(this.tokens.size);
    this.postings = new Array<Int32Array>(this.tokens.size).fill(NO_TOKENS);
    this.ensure(this.ctx.users.size, this.ctx.items.size);
    for (let i = 0; i < indexed.length; i++) {
      if (!indexed[i]) continue;
      const list = toks.slice(ptr[i], ptr[i + 1]);
      this.itemTokens[i] = list.length > 0 ? list : new Int32Array(0);
      for (const t of list) {
        const n = ++this.df[t];
        let post = this.postings[t];
        if (n > post.length) {
          const grown = new Int32Array(Math.max(4, post.length * 2));
          grown.set(post);
          this.postings[t] = post = grown;
        }
        post[n - 1] = i;
      }
    }
    const sptr = r.i32('sptr');
    const sids = r.i32('sids');
    const svals = r.f32('svals');
    for (let i = 0; i + 1 < sptr.length; i++) {
      const n = sptr[i + 1] - sptr[i];
      if (n === 0) continue;
      this.allocList(i);
      this.simIds[i].set(sids.subarray(sptr[i], sptr[i + 1]));
      this.simVals[i].set(svals.subarray(sptr[i], sptr[i + 1]));
      this.simLen[i] = n;
    }
    this.history.load(r.scope('hist.'), this.ctx.users.size);
  }

  snapshot(): Uint8Array {
    return snapshotComponent(this);
  }

  restore(bytes: Uint8Array): void {
    restoreComponent(this, bytes);
  }
}

const EMPTY_I32 = new Int32Array(0);
const EMPTY_F32 = new Float32Array(0);
