import { F, deepScore, hasDeep, wideScore, type RankerModel } from './model.js';

export interface OnlineRankOptions {
  /** SGD step of the wide part (default 0.01). */
  learningRate?: number;
  /**
   * SGD step of the MLP (default 0: online, the MLP chased recent baskets and lost 1-2 points
   * HR@10 on Online Retail at every rate tried; the nearline trainer fits it instead).
   */
  deepLearningRate?: number;
  /**
   * Pull of the wide weights back toward the blend they started from, per update (default
   * 0.001): a stream of similar examples must not run a weight off to an extreme.
   */
  priorWeight?: number;
  /** Negatives paired with each positive (default 20). */
  negatives?: number;
  /**
   * A served list is learned from only this long (event time) after the user acted on it, so
   * that other items of the same list the user takes in the meantime (the rest of a basket) are
   * not used as negatives (default 0: on Online Retail, waiting an hour measured 0.001 HR@10
   * worse than learning at once, the staleness costing more than the cleaner negatives).
   */
  delayMs?: number;
  /** Served lists waiting for their delay (default 8192; the oldest is learned early when full). */
  pending?: number;
}

const DEFAULTS: Required<OnlineRankOptions> = {
  learningRate: 0.01,
  deepLearningRate: 0,
  priorWeight: 0.001,
  negatives: 20,
  delayMs: 0,
  pending: 8192,
};

/**
 * Learns the ranking model from what was served: when a user acts on (buys, carts, clicks) an
 * item that was in the list served to them, that row is a positive and the rows ranked above it
 * (then right below it) are negatives. Each pair takes one step of the pairwise logistic loss
 * log(1 + exp(−(s⁺ − s⁻))) (RankNet), the loss whose minimum puts positives above what
 * outranked them: exactly the mistakes that cost HR@K.
 */
export class OnlineRankLearner {
  readonly o: Required<OnlineRankOptions>;
  private readonly prior: Float32Array;
  private actP = new Float32Array(0);
  private actN = new Float32Array(0);
  updates = 0;

  constructor(opts: OnlineRankOptions = {}, prior: RankerModel) {
    this.o = {
      ...DEFAULTS,
      ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
    };
    this.prior = prior.wide.slice();
  }

  /** Re-anchors the prior, e.g. to a nearline model that was just swapped in. */
  anchor(m: RankerModel): void {
    this.prior.set(m.wide);
  }

  /**
   * rows: `count` feature rows (F wide) in served order, best first; `pos` is the acted-on row.
   * Mutates `m` in place.
   */
  update(
    m: RankerModel,
    rows: Float32Array,
    count: number,
    pos: number,
    isNegative: (row: number) => boolean = () => true,
  ): void {
    const H = m.hidden;
    if (this.actP.length < H) {
      this.actP = new Float32Array(H);
      this.actN = new Float32Array(H);
    }
    const k = this.o.negatives;
    let used = 0;
    // served order: every row that outranked the positive first, then the ones right below it
    for (let r = 0; r < count && used < k; r++) {
      if (r === pos || !isNegative(r)) continue;
      this.pair(m, rows, pos * F, r * F);
      used++;
    }
    if (used > 0) {
      const lr = this.o.learningRate * this.o.priorWeight;
      for (let f = 0; f < F; f++) m.wide[f] -= lr * (m.wide[f] - this.prior[f]) * used;
    }
    this.updates++;
  }

  private pair(m: RankerModel, x: Float32Array, po: number, no: number): void {
    const H = m.hidden;
    const aP = this.actP;
    const aN = this.actN;
    const deep = this.o.deepLearningRate > 0 || hasDeep(m);
    const sP = wideScore(m, x, po) + (deep ? deepScore(m, x, po, aP) : 0);
    const sN = wideScore(m, x, no) + (deep ? deepScore(m, x, no, aN) : 0);
    // d/ds⁺ of −log σ(s⁺ − s⁻) is −σ(s⁻ − s⁺); ascend with g = σ(s⁻ − s⁺)
    const d = sP - sN;
    const g = d > 30 ? 0 : 1 / (1 + Math.exp(d));
    if (g < 1e-6) return;
    const lr = this.o.learningRate * g;
    for (let f = 0; f < F; f++) m.wide[f] += lr * (x[po + f] - x[no + f]);
    const lrd = this.o.deepLearningRate * g;
    if (lrd === 0) return;
    const w1 = m.w1;
    const w2 = m.w2;
    for (let h = 0; h < H; h++) {
      const w2h = w2[h];
      // relu'(z) is 1 exactly where the stored activation is positive
      const gP = aP[h] > 0 ? w2h : 0;
      const gN = aN[h] > 0 ? w2h : 0;
      w2[h] += lrd * (aP[h] - aN[h]);
      if (gP === 0 && gN === 0) continue;
      m.b1[h] += lrd * (gP - gN);
      for (let f = 0; f < F; f++) w1[f * H + h] += lrd * (gP * x[po + f] - gN * x[no + f]);
    }
  }
}

/**
 * Served lists the user acted on, held until `delayMs` of event time has passed: by then the
 * other items of the list that the user also took are known and are not used as negatives.
 */
export class PendingExamples {
  private readonly cap: number;
  private readonly depth: number;
  private readonly user: Int32Array;
  private readonly ts: Float64Array;
  private readonly count: Int32Array;
  private readonly pos: Int32Array;
  private readonly ids: Int32Array;
  private readonly rows: Float32Array;
  private head = 0;
  private size = 0;

  constructor(capacity: number, depth: number) {
    this.cap = Math.max(1, capacity);
    this.depth = depth;
    this.user = new Int32Array(this.cap);
    this.ts = new Float64Array(this.cap);
    this.count = new Int32Array(this.cap);
    this.pos = new Int32Array(this.cap);
    this.ids = new Int32Array(this.cap * depth);
    this.rows = new Float32Array(this.cap * depth * F);
  }

  get length(): number {
    return this.size;
  }

  /**
   * Queues a copy of a served list: `count` ids and feature rows (served order) starting at row
   * `from` of `ids`/`rows`, and the acted-on row `pos`.
   */
  push(
    user: number,
    ts: number,
    ids: Int32Array,
    rows: Float32Array,
    from: number,
    count: number,
    pos: number,
    learn: (e: number) => void,
  ): void {
    if (this.size === this.cap) this.pop(learn);
    const e = (this.head + this.size) % this.cap;
    const n = Math.min(count, this.depth);
    this.user[e] = user;
    this.ts[e] = ts;
    this.count[e] = n;
    this.pos[e] = pos;
    const io = e * this.depth;
    for (let t = 0; t < n; t++) this.ids[io + t] = ids[from + t];
    const ro = io * F;
    const src = from * F;
    for (let x = 0; x < n * F; x++) this.rows[ro + x] = rows[src + x];
    this.size++;
  }

  /** Learns every entry at least `delayMs` older than `now` (entries arrive in time order). */
  drain(now: number, delayMs: number, learn: (e: number) => void): void {
    while (this.size > 0 && this.ts[this.head] + delayMs <= now) this.pop(learn);
  }

  private pop(learn: (e: number) => void): void {
    learn(this.head);
    this.head = (this.head + 1) % this.cap;
    this.size--;
  }

  userOf(e: number): number {
    return this.user[e];
  }
  countOf(e: number): number {
    return this.count[e];
  }
  posOf(e: number): number {
    return this.pos[e];
  }
  itemOf(e: number, r: number): number {
    return this.ids[e * this.depth + r];
  }
  rowsOf(e: number): Float32Array {
    return this.rows.subarray(e * this.depth * F, (e * this.depth + this.count[e]) * F);
  }
}
