import type { IdMap } from './core/id-map.js';
import { growF64, growI32 } from './core/arrays.js';
import { Ranker } from './core/context.js';
import type { MfRecommender } from './mf.js';

/**
 * The hybrid's second stage: MF is the costly scorer, so it only re-ranks the best `depth` of
 * the cheap blend, its scores min-max scaled over that short list and weighted.
 */
export class MfRerank {
  private readonly pre = new Ranker();
  private preIds: Int32Array;
  private preScores: Float64Array;
  private preMf: Float64Array;
  /** MF's weighted contribution per item, valid where stamp equals the caller's epoch */
  private part = new Float64Array(0);
  private stamp = new Int32Array(0);

  constructor(private readonly depth: number) {
    this.preIds = new Int32Array(Math.max(depth, 16));
    this.preScores = new Float64Array(this.preIds.length);
    this.preMf = new Float64Array(this.preIds.length);
  }

  ensure(items: number): void {
    this.part = growF64(this.part, items);
    this.stamp = growI32(this.stamp, items);
  }

  /** MF's contribution to c in the call of `epoch`, or 0 when c was not re-ranked then. */
  partOf(c: number, epoch: number): number {
    return this.stamp[c] === epoch ? this.part[c] : 0;
  }

  /**
   * Fills `out`'s heap (begun with k) with the re-ranked best of list[0..n) by cheap[]. Stage 1
   * ignores `exclude` (a string lookup per heap entry is the dominant cost) and drops excluded
   * items afterwards; only when too few survive does it rank again with the checks.
   */
  run(
    mf: MfRecommender,
    u: number,
    weight: number,
    cand: { list: Int32Array; cheap: Float64Array; n: number; epoch: number },
    k: number,
    items: IdMap,
    exclude: ReadonlySet<string>,
    out: Ranker,
  ): void {
    const { list, cheap, n, epoch } = cand;
    const depth = Math.max(k, this.depth);
    if (depth > this.preIds.length) {
      this.preIds = new Int32Array(depth);
      this.preScores = new Float64Array(depth);
      this.preMf = new Float64Array(depth);
    }
    const pre = this.pre.begin(depth);
    for (let s = 0; s < n; s++) pre.offer(list[s], cheap[s]);
    // only the set matters here: the final heap orders the survivors
    let m = pre.copyTo(this.preIds, this.preScores);
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
    const wm = hi > lo ? weight / (hi - lo) : 0;
    const heap = out.begin(k);
    for (let t = 0; t < m; t++) {
      const c = this.preIds[t];
      const v = wm * (this.preMf[t] - lo);
      this.part[c] = v;
      this.stamp[c] = epoch;
      heap.offer(c, this.preScores[t] + v);
    }
  }
}
