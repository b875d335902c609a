/**
 * Bounded min-heap that keeps the k best (score desc, id asc) of a stream of candidates in
 * O(n log k) with no allocation per call: one instance is reused by every recommend().
 */
export class TopK {
  private ids: Int32Array;
  private scores: Float64Array;
  private k = 0;
  private n = 0;

  constructor(capacity = 16) {
    this.ids = new Int32Array(capacity);
    this.scores = new Float64Array(capacity);
  }

  reset(k: number): void {
    if (k > this.ids.length) {
      this.ids = new Int32Array(k);
      this.scores = new Float64Array(k);
    }
    this.k = Math.max(0, k);
    this.n = 0;
  }

  get size(): number {
    return this.n;
  }

  /**
   * Whether (score, id) would enter the heap. Callers check this before costly work such as an
   * exclusion lookup, which is why it is separate from push().
   */
  accepts(id: number, score: number): boolean {
    if (this.n < this.k) return score === score; // NaN never enters
    if (this.k === 0) return false;
    const s0 = this.scores[0];
    return score > s0 || (score === s0 && id < this.ids[0]);
  }

  /** Adds a candidate that accepts() approved. */
  push(id: number, score: number): void {
    const ids = this.ids;
    const sc = this.scores;
    if (this.n < this.k) {
      // sift up from the new leaf
      let i = this.n++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(score, id, sc[p], ids[p])) break;
        ids[i] = ids[p];
        sc[i] = sc[p];
        i = p;
      }
      ids[i] = id;
      sc[i] = score;
      return;
    }
    // replace the root (the worst kept)
    this.siftDown(id, score, this.n);
  }

  /** Puts (id, score) at the root of the heap's first `n` entries and sifts it down. */
  private siftDown(id: number, score: number, n: number): void {
    const ids = this.ids;
    const sc = this.scores;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && worse(sc[r], ids[r], sc[l], ids[l])) c = r;
      if (!worse(sc[c], ids[c], score, id)) break;
      ids[i] = ids[c];
      sc[i] = sc[c];
      i = c;
    }
    ids[i] = id;
    sc[i] = score;
  }

  offer(id: number, score: number): boolean {
    if (!this.accepts(id, score)) return false;
    this.push(id, score);
    return true;
  }

  /**
   * Copies the kept candidates in no particular order (cheaper than drain() when only the set
   * matters); returns the count and leaves the heap as it was.
   */
  copyTo(outIds: Int32Array, outScores: Float64Array): number {
    const n = this.n;
    for (let j = 0; j < n; j++) {
      outIds[j] = this.ids[j];
      outScores[j] = this.scores[j];
    }
    return n;
  }

  /**
   * Empties the heap into `outIds`/`outScores`, best first; returns the count.
   * Destroys the heap order, so call reset() before reuse.
   */
  drain(outIds: Int32Array, outScores: Float64Array): number {
    const count = this.n;
    const ids = this.ids;
    const sc = this.scores;
    // pop the worst repeatedly into the tail: that is heap-sort with no extra memory
    for (let last = count - 1; last >= 0; last--) {
      outIds[last] = ids[0];
      outScores[last] = sc[0];
      this.siftDown(ids[last], sc[last], last);
    }
    this.n = 0;
    return count;
  }
}

/** Ranking order: higher score first, then lower id, so results are deterministic. */
function worse(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa < sb || (sa === sb && ia > ib);
}
