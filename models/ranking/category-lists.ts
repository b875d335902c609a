import { growI32, recentHas, touchRecent } from '../core/arrays.js';
import { IdMap } from '../core/id-map.js';
import type { SnapshotReader, SnapshotWriter } from '../core/snapshot.js';
import type { TopK } from '../core/topk.js';

/**
 * What the ranker knows of categories: each item's catalogue category, each user's recent
 * categories (the `user_category` feature), and the short lists candidates are drawn from: the
 * trending items of each category and the popular items, rebuilt every `refreshEvery` events.
 * Bounds: one category per item, `perUser` per user, `perCategory` per category (categories
 * are bounded by the model context's token limit).
 */
export class CategoryLists {
  readonly categories = new IdMap();
  itemCat = new Int32Array(0);
  userCat = new Int32Array(0);
  /** Trending items of category c: ids `[c × perCategory, + topLen[c])`, best first. */
  topIds = new Int32Array(0);
  topLen = new Int32Array(0);
  private topScores = new Float64Array(0);
  readonly popIds: Int32Array;
  popLen = 0;
  private sinceRefresh = Number.POSITIVE_INFINITY;

  constructor(
    readonly perUser: number,
    readonly perCategory: number,
    popular: number,
    private readonly refreshEvery: number,
  ) {
    this.popIds = new Int32Array(Math.max(1, popular));
  }

  ensureItems(items: number): void {
    const old = this.itemCat.length;
    this.itemCat = growI32(this.itemCat, items);
    this.itemCat.fill(-1, old);
  }

  ensureUsers(users: number): void {
    const need = users * this.perUser;
    if (need <= this.userCat.length) return;
    const old = this.userCat.length;
    this.userCat = growI32(this.userCat, need);
    this.userCat.fill(-1, old);
  }

  /** A recycled user row: its recent categories were someone else's. */
  forget(u: number): void {
    const n = this.perUser;
    if ((u + 1) * n <= this.userCat.length) this.userCat.fill(-1, u * n, (u + 1) * n);
  }

  /** User u acted on item i; the event's own category counts only if the catalog knows it. */
  observe(u: number, i: number, category: string | undefined): void {
    const own = category !== undefined ? this.categories.get(category) : -1;
    const cat = own >= 0 ? own : this.itemCat[i];
    if (cat >= 0) touchRecent(this.userCat, u, this.perUser, cat);
    this.sinceRefresh++;
  }

  learnItem(i: number, category: string): void {
    this.itemCat[i] = this.categories.intern(category);
  }

  /** The item's category as last given by the catalog, if any. */
  categoryOf(i: number): string | undefined {
    if (i < 0 || i >= this.itemCat.length || this.itemCat[i] < 0) return undefined;
    return this.categories.name(this.itemCat[i]);
  }

  inUserCategory(u: number, c: number): boolean {
    const cat = this.itemCat[c];
    if (cat < 0 || u < 0) return false;
    return recentHas(this.userCat, u, this.perUser, cat);
  }

  /** Rebuilds the popular and per-category trending lists if `refreshEvery` events passed. */
  refresh(nItems: number, pop: Float64Array, trending: Float64Array, heap: TopK): void {
    if (this.sinceRefresh < this.refreshEvery) return;
    this.sinceRefresh = 0;
    heap.reset(this.popIds.length);
    for (let c = 0; c < Math.min(nItems, pop.length); c++) if (pop[c] > 0) heap.offer(c, pop[c]);
    this.popLen = heap.drain(this.popIds, new Float64Array(this.popIds.length));
    const C = this.perCategory;
    const nCat = this.categories.size;
    if (C <= 0 || nCat === 0) return;
    if (this.topLen.length < nCat) {
      this.topLen = new Int32Array(nCat);
      this.topIds = new Int32Array(nCat * C);
      this.topScores = new Float64Array(nCat * C);
    }
    this.topLen.fill(0);
    for (let c = 0; c < Math.min(nItems, trending.length); c++) {
      const cat = this.itemCat[c];
      const v = trending[c];
      if (cat < 0 || !(v > 0)) continue;
      // sorted insert into a list of at most C
      const base = cat * C;
      let len = this.topLen[cat];
      if (len === C && v <= this.topScores[base + C - 1]) continue;
      if (len < C) this.topLen[cat] = ++len;
      let p = len - 1;
      while (p > 0 && this.topScores[base + p - 1] < v) {
        this.topScores[base + p] = this.topScores[base + p - 1];
        this.topIds[base + p] = this.topIds[base + p - 1];
        p--;
      }
      this.topScores[base + p] = v;
      this.topIds[base + p] = c;
    }
  }

  save(w: SnapshotWriter, items: number, users: number): void {
    w.set('categories', this.categories.toArray());
    w.array('itemCat', this.itemCat, items);
    w.array('userCat', this.userCat, users * this.perUser);
  }

  load(r: SnapshotReader, items: number, users: number): void {
    this.categories.load(r.strings('categories'));
    this.itemCat = new Int32Array(0);
    this.userCat = new Int32Array(0);
    this.ensureItems(items);
    this.ensureUsers(users);
    this.itemCat.set(r.i32('itemCat'));
    this.userCat.set(r.i32('userCat'));
    this.sinceRefresh = Number.POSITIVE_INFINITY;
  }
}
