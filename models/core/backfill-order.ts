import type { Ranker } from './context.js';
import type { IdMap } from './id-map.js';
import { growI32 } from './arrays.js';
import { TopK } from './topk.js';

/** How the backfill scores an item: the user-independent part of the blend. */
export interface BackfillScores {
  readonly trend: Float64Array | undefined;
  readonly wt: number;
  readonly pop: Float64Array | undefined;
  readonly wp: number;
}

/**
 * The catalogue's best items by the backfill score, kept while the model does not change. A
 * batch's lists are all served after the batch was learned, so with many cold users in a batch
 * the same ranking of the whole catalogue would be recomputed for each of them; this ranks it
 * once (the best `depth` items, best first) and walks that prefix instead.
 *
 * Exactness: the Ranker keeps the k best by (score desc, id asc), a total order, so the result
 * does not depend on the order of offers. Walking the prefix best first, the first item the
 * heap refuses is worse than everything it keeps, and so is every later item, including all
 * items outside the prefix. Only when the prefix runs out while the heap still accepts are the
 * items outside it scanned, as the plain scan would.
 * Bound: `depth` ids and scores plus one int per catalogue item (a membership stamp).
 */
export class BackfillOrder {
  private readonly heap: TopK;
  private ids: Int32Array;
  private vals: Float64Array;
  private len = 0;
  /** build number per item in the prefix */
  private member = new Int32Array(0);
  private build = 0;
  private builtGen = -1;
  private builtSize = -1;
  private seenGen = -1;

  constructor(private readonly depth = 256) {
    this.heap = new TopK(depth);
    this.ids = new Int32Array(depth);
    this.vals = new Float64Array(depth);
  }

  /**
   * Offers every item that is not a candidate of this call (stamp[c] === epoch) to `r` with its
   * backfill score. `gen` changes whenever the scores may have: the first call of a generation
   * scans, the second ranks the catalogue once for the rest of the generation.
   */
  fill(
    r: Ranker,
    s: BackfillScores,
    items: IdMap,
    exclude: ReadonlySet<string>,
    stamp: Int32Array,
    epoch: number,
    gen: number,
  ): void {
    const n = items.size;
    const cached = gen === this.builtGen && n === this.builtSize;
    if (!cached && gen !== this.seenGen) {
      this.seenGen = gen;
      for (let c = 0; c < n; c++) if (stamp[c] !== epoch) r.offer(c, score(s, c), items, exclude);
      return;
    }
    if (!cached) this.rank(s, n, gen);
    const heap = r.heap;
    const ids = this.ids;
    const vals = this.vals;
    for (let t = 0; t < this.len; t++) {
      const c = ids[t];
      if (stamp[c] === epoch) continue;
      if (!heap.accepts(c, vals[t])) return;
      r.offer(c, vals[t], items, exclude);
    }
    if (this.len === n) return;
    const member = this.member;
    const build = this.build;
    for (let c = 0; c < n; c++) {
      if (stamp[c] !== epoch && member[c] !== build) r.offer(c, score(s, c), items, exclude);
    }
  }

  private rank(s: BackfillScores, n: number, gen: number): void {
    const heap = this.heap;
    heap.reset(this.depth);
    for (let c = 0; c < n; c++) heap.offer(c, score(s, c));
    this.len = heap.drain(this.ids, this.vals);
    this.member = growI32(this.member, n);
    const build = ++this.build;
    for (let t = 0; t < this.len; t++) this.member[this.ids[t]] = build;
    this.builtGen = gen;
    this.builtSize = n;
  }
}

function score(s: BackfillScores, c: number): number {
  return (s.trend ? s.wt * s.trend[c] : 0) + (s.pop ? s.wp * s.pop[c] : 0);
}
