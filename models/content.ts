import type { ClickEvent, ItemEvent, ScoredItem } from './event.js';
import type { Recommender } from './recommender.js';
import { growF64, growI32 } from './core/arrays.js';
import { ModelContext, Ranker, ReasonCache } from './core/context.js';
import { UserHistory } from './core/history.js';
import { stripUndefined } from './core/options.js';
import {
  SnapshotReader,
  SnapshotWriter,
  restoreComponent,
  snapshotComponent,
} from './core/snapshot.js';
import { TYPE_CODE } from './core/weights.js';
import { TitleIndex } from './content-index.js';

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
  /** each item's most similar items */
  readonly index: TitleIndex;
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
    this.index = new TitleIndex(this.ctx, this.o);
    this.posWeight = new Float64Array(this.o.historySize);
    for (let p = 0; p < this.o.historySize; p++)
      this.posWeight[p] = Math.pow(this.o.positionDecay, p);
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
      this.index.tokenise(i, item.title ?? '', item.category);
  }

  observe(u: number, i: number, event: ClickEvent): void {
    this.ensure(this.ctx.users.size, this.ctx.items.size);
    // Titles and categories come from the catalog (learnItem) only: a click's props.title must
    // not decide what is "similar" for every other shopper. An item clicked before the catalog
    // named it is indexed by its id prefixes.
    if (!this.index.isIndexed(i)) this.index.tokenise(i, '', undefined);
    if (TYPE_CODE[event.type] !== TYPE_CODE.remove_from_cart)
      this.history.push(u, i, event.ts, TYPE_CODE[event.type]);
  }

  /** Items another instance learned from: indexed by id prefixes, as a click here would. */
  touchItems(ids: Int32Array): void {
    this.ensure(this.ctx.users.size, this.ctx.items.size);
    for (const i of ids)
      if (i >= 0 && !this.index.isIndexed(i)) this.index.tokenise(i, '', undefined);
  }

  private ensure(users: number, items: number): void {
    this.history.ensureUsers(users);
    this.index.ensureItems(items);
    if (items <= this.touched.length) return;
    this.cand = growF64(this.cand, items);
    this.best = growF64(this.best, items);
    this.src = growI32(this.src, items);
    this.cstamp = growI32(this.cstamp, items);
    this.touched = growI32(this.touched, items);
  }

  /** Accumulates similarity to u's recent items; see ItemKnnRecommender.collect. */
  collect(u: number): number {
    this.cepoch++;
    this.nTouched = 0;
    this.srcUser = u;
    if (u < 0 || u >= this.history.len.length) return 0;
    const h = this.history;
    const base = h.start(u);
    for (let p = 0, n = h.len[u]; p < n; p++) {
      const j = h.items[base + p];
      const m = this.index.simLen[j];
      const ids = this.index.simIds[j];
      const vals = this.index.simVals[j];
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
    const j = this.history.items[this.history.start(this.srcUser) + this.src[c]];
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
    this.index.save(w);
    this.history.save(w.scope('hist.'), this.ctx.users.size);
  }

  load(r: SnapshotReader): void {
    this.index.load(r);
    this.ensure(this.ctx.users.size, this.ctx.items.size);
    this.history.load(r.scope('hist.'), this.ctx.users.size);
  }

  snapshot(): Uint8Array {
    return snapshotComponent(this);
  }

  restore(bytes: Uint8Array): void {
    restoreComponent(this, bytes);
  }
}
