import { TopK } from '../core/topk.js';
import type { MfRecommender } from '../mf.js';
import { F, FEATURE_INDEX as FI, deepScore, hasDeep, type RankerModel } from './model.js';

/**
 * Stage 2 of the ranker: MF and the MLP re-score the `pre` rows the wide stage kept (row t =
 * wide rank t), and the final order is theirs. The MF feature is min-max scaled over these rows
 * only, so it is computed here rather than for every candidate. Scratch grows to the largest
 * `pre` seen (at most max(depth, k) rows).
 */
export class DeepStage {
  /** Row of X (= wide rank) of the t-th served item, and its final score. */
  slots: Int32Array;
  scores: Float64Array;
  private act = new Float32Array(0);
  private mfScratch = new Float64Array(0);
  private readonly heap = new TopK(64);

  constructor(depth: number) {
    this.slots = new Int32Array(depth);
    this.scores = new Float64Array(depth);
  }

  /** Makes room for a model with `hidden` units before it serves. */
  ensureHidden(hidden: number): void {
    if (this.act.length < hidden) this.act = new Float32Array(hidden);
  }

  /**
   * Fills row t's MF feature (item `list[preSlots[t]]`, when MF knows user u) and ranks the rows;
   * returns how many are ranked (`slots`/`scores`, best first).
   */
  rescore(
    m: RankerModel,
    X: Float32Array,
    pre: number,
    preScores: Float64Array,
    list: Int32Array,
    preSlots: Int32Array,
    mf: MfRecommender | undefined,
    u: number,
  ): number {
    const w = m.wide;
    const mfKnows = mf !== undefined && mf.knows(u);
    this.ensureHidden(m.hidden);
    if (pre > this.mfScratch.length) this.mfScratch = new Float64Array(pre);
    if (mf !== undefined && mfKnows && w[FI.mf] !== 0) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      const rows = mf.Q.rows;
      for (let t = 0; t < pre; t++) {
        const c = list[preSlots[t]];
        const v = c < rows ? mf.predict(u, c) : 0;
        this.mfScratch[t] = v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const inv = hi > lo ? 1 / (hi - lo) : 0;
      for (let t = 0; t < pre; t++) X[t * F + FI.mf] = (this.mfScratch[t] - lo) * inv;
    }
    if (pre > this.slots.length) {
      this.slots = new Int32Array(pre);
      this.scores = new Float64Array(pre);
    }
    const wMf = w[FI.mf];
    const deep = hasDeep(m);
    if (!deep && !(mfKnows && wMf !== 0)) {
      // nothing re-scores: the wide stage's order is final
      for (let t = 0; t < pre; t++) {
        this.slots[t] = t;
        this.scores[t] = preScores[t];
      }
      return pre;
    }
    const heap = this.heap;
    heap.reset(pre);
    for (let t = 0; t < pre; t++) {
      const d = deep ? deepScore(m, X, t * F, this.act) : 0;
      heap.push(t, preScores[t] + wMf * X[t * F + FI.mf] + d);
    }
    return heap.drain(this.slots, this.scores);
  }
}
