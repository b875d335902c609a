import { growF64, growI32 } from './core/arrays.js';
import type { ModelContext } from './core/context.js';
import { IdMap } from './core/id-map.js';
import type { SnapshotReader, SnapshotWriter } from './core/snapshot.js';
import { TopK } from './core/topk.js';

/** An item the index has not tokenised yet (also: no tokens at all). */
export const NO_TOKENS = new Int32Array(0);
const EMPTY_I32 = new Int32Array(0);
const EMPTY_F32 = new Float32Array(0);

/**
 * Each item's most similar items by TF-IDF cosine over its title words, category and id
 * prefixes, kept incrementally: an item is tokenised once, at first sight, and linked both ways
 * through the postings of its tokens, so no list is ever recomputed. Bounds: `neighbors`
 * similar items per item; tokens are bounded by the model context's token limit.
 */
export class TitleIndex {
  private readonly tokens = new IdMap();
  private df = new Int32Array(0);
  private postings: Int32Array[] = [];
  /**
   * per item, its tokens: tokData[tokOff[i], tokOff[i] + tokLen[i]), tokOff -1 until indexed.
   * One shared array, not a typed array per item (about 200 B of heap each; issue 12). Bound:
   * the tokens of `limits.items` items, each item's fixed at its first sight.
   */
  private tokOff = new Int32Array(0);
  private tokLen = new Int32Array(0);
  private tokData = new Int32Array(0);
  private tokUsed = 0;
  private itemRows = 0;
  /** per item, its most similar items, best first */
  simIds: Int32Array[] = [];
  simVals: Float32Array[] = [];
  simLen = new Int32Array(0);
  private readonly heap: TopK;
  private readonly heapIds: Int32Array;
  private readonly heapScores: Float64Array;
  private accum = new Float64Array(0);
  private stamp = new Int32Array(0);
  private touchedList = new Int32Array(0);
  private epoch = 0;

  constructor(
    private readonly ctx: ModelContext,
    private readonly o: { neighbors: number; idPrefixTokens: boolean; maxDocFrequency: number },
  ) {
    this.heap = new TopK(o.neighbors);
    this.heapIds = new Int32Array(o.neighbors);
    this.heapScores = new Float64Array(o.neighbors);
    ctx.tokenMap(this.tokens);
  }

  ensureItems(items: number): void {
    if (items <= this.itemRows) return;
    this.tokOff = growI32(this.tokOff, items, -1);
    this.tokLen = growI32(this.tokLen, items);
    for (let i = this.itemRows; i < items; i++) {
      this.simIds.push(EMPTY_I32);
      this.simVals.push(EMPTY_F32);
    }
    this.itemRows = items;
    this.simLen = growI32(this.simLen, items);
    this.accum = growF64(this.accum, items);
    this.stamp = growI32(this.stamp, items);
    this.touchedList = growI32(this.touchedList, items);
  }

  isIndexed(i: number): boolean {
    return this.tokOff[i] >= 0;
  }

  /** Tokens are fixed at an item's first sight: re-indexing would invalidate cached lists. */
  tokenise(i: number, title: string, category?: string): void {
    if (this.tokOff[i] >= 0) return;
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
    this.setTokens(i, ids);
    this.link(i);
  }

  private setTokens(i: number, ids: ArrayLike<number>): void {
    this.tokData = growI32(this.tokData, this.tokUsed + ids.length);
    this.tokData.set(ids, this.tokUsed);
    this.tokOff[i] = this.tokUsed;
    this.tokLen[i] = ids.length;
    this.tokUsed += ids.length;
  }

  private idf(t: number): number {
    return Math.log((this.ctx.items.size + 1) / this.df[t]);
  }

  private norm2(c: number): number {
    const toks = this.tokData;
    let s = 0;
    for (let a = this.tokOff[c], end = a + this.tokLen[c]; a < end; a++) {
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
    const maxDf = this.o.maxDocFrequency;
    this.epoch++;
    let nt = 0;
    for (let a = this.tokOff[i], end = a + this.tokLen[i]; a < end; a++) {
      const t = this.tokData[a];
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
    // only an item with a similar item gets lists: two arrays of `neighbors` entries cost about
    // 1 KB of heap and RSS per item, and most items (ids alone, common words) have none (issue 12)
    if (n > 0) this.allocList(i);
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

  save(w: SnapshotWriter): void {
    // titles are re-tokenised on restore from the stored token lists
    const items = this.ctx.items.size;
    let total = 0;
    for (let i = 0; i < items; i++) total += this.tokLen[i];
    const ptr = new Int32Array(items + 1);
    const toks = new Int32Array(total);
    let o = 0;
    for (let i = 0; i < items; i++) {
      ptr[i] = o;
      const from = this.tokOff[i];
      if (from >= 0) toks.set(this.tokData.subarray(from, from + this.tokLen[i]), o);
      o += this.tokLen[i];
    }
    ptr[items] = o;
    w.set('tokens', this.tokens.toArray());
    w.array('ptr', ptr);
    w.array('toks', toks);
    w.array(
      'indexed',
      Uint8Array.from(this.tokOff.subarray(0, items), (off) => (off >= 0 ? 1 : 0)),
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
  }

  load(r: SnapshotReader): void {
    this.tokens.load(r.strings('tokens'));
    const ptr = r.i32('ptr');
    const toks = r.i32('toks');
    const indexed = r.u8('indexed');
    this.tokOff = new Int32Array(0);
    this.tokLen = new Int32Array(0);
    this.tokData = new Int32Array(0);
    this.tokUsed = 0;
    this.itemRows = 0;
    this.simIds = [];
    this.simVals = [];
    this.simLen = new Int32Array(0);
    this.df = new Int32Array(this.tokens.size);
    this.postings = new Array<Int32Array>(this.tokens.size).fill(NO_TOKENS);
    this.ensureItems(this.ctx.items.size);
    for (let i = 0; i < indexed.length; i++) {
      if (!indexed[i]) continue;
      const list = toks.subarray(ptr[i], ptr[i + 1]);
      this.setTokens(i, list);
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
  }
}
