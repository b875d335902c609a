import type { ClickEvent, ScoredItem } from './event.js';
import type { Recommender } from './recommender.js';
import { RowStore, growF32, growF64 } from './core/arrays.js';
import { ModelContext, Ranker } from './core/context.js';
import { DecayClock } from './core/decay.js';
import { stripUndefined } from './core/options.js';
import { Rng } from './core/rng.js';
import { NegativeSampler } from './core/negative-sampler.js';
import {
  SnapshotReader,
  SnapshotWriter,
  restoreComponent,
  snapshotComponent,
} from './core/snapshot.js';
import { DAY_MS, TYPE_CODE, weightTable } from './core/weights.js';
import { MF_POP, SCALARS, itemSeed, type ItemDeltaRecord } from './core/item-deltas.js';
import { MF_DEFAULTS, type MfOptions, type MfSettings } from './mf-options.js';

export type { MfOptions } from './mf-options.js';

/**
 * Online matrix factorisation for implicit feedback, one SGD step per event (ISGD, Vinagre et
 * al. 2014) with popularity-weighted sampled negatives standing in for eALS's
 * popularity-weighted missing-data term (He et al. 2016).
 *
 * Per event (user u, item i, event weight w, sampled items N, prediction ŷ_j = p_u·q_j + b_j)
 * the loss is
 *   L = ½·w·(1 − ŷ_i)² + ½·c0·Σ_{j∈N} ŷ_j² + ½·λ·(‖p_u‖² + ‖q_i‖² + Σ_{j∈N} ‖q_j‖²)
 *       + ½·λ_b·(b_i² + Σ_{j∈N} b_j²)
 * and every parameter moves by −η·∂L/∂θ, all gradients taken at the pre-step values.
 * A negative event weight (remove_from_cart) becomes a target of 0 with weight |w|.
 *
 * Forgetting: a constant step size keeps the newest events most influential, and negatives
 * come from a sliding window, so items that stop selling are pushed down (drift).
 */
export class MfRecommender implements Recommender {
  readonly name: string = 'mf';
  readonly ctx: ModelContext;
  readonly o: MfSettings;
  private readonly weights: Float64Array;
  readonly P: RowStore;
  readonly Q: RowStore;
  /** item biases times biasClock's inflation (see DecayClock): fading costs nothing per item */
  private bias = new Float32Array(0);
  private readonly biasClock: DecayClock;
  private biasNow = Number.NEGATIVE_INFINITY;
  private biasInfl = 1;
  private biasScale = 1;
  private readonly rng: Rng;
  private readonly sampler: NegativeSampler;
  private readonly negs: Int32Array;
  private readonly gradP: Float64Array;
  private readonly clock: DecayClock;
  /** decayed popularity, only for users without a factor row */
  private pop = new Float64Array(0);
  /**
   * Weight of another instance's item factor and bias steps (the item state replica). Each
   * instance steps a hot item from its own copy, all from nearly the same values; summed, K such
   * steps are K times one, and at 6 instances with 100-event batches the factors diverged to NaN
   * within 14,000 events (BENCHMARKS.md, horizontal scale). Averaging them over the instances
   * that may learn at once (1/partitions) keeps the step of one instance and stays stable.
   */
  remoteStepWeight = 1;
  /**
   * Rows the last restore found not finite and started over (a snapshot saved by a build whose
   * summed replica steps had diverged to NaN would otherwise keep serving nothing from MF).
   */
  repairedRows = 0;
  private readonly ranker = new Ranker();
  private readonly reasonFn = (): string => 'matches your taste';
  private readonly popReason = (): string => 'popular now';
  private readonly initRows = (data: Float32Array, from: number, to: number): void => {
    const s = this.o.initStd;
    for (let x = from; x < to; x++) data[x] = s * this.rng.gauss();
  };

  constructor(opts: MfOptions = {}, ctx?: ModelContext) {
    this.o = { ...MF_DEFAULTS, ...stripUndefined(opts) };
    this.ctx = ctx ?? new ModelContext();
    this.weights = weightTable(opts.eventWeights);
    this.rng = new Rng(this.o.seed);
    this.P = new RowStore(this.o.dim);
    this.Q = new RowStore(this.o.dim);
    this.sampler = new NegativeSampler(this.o.negativePool, this.o.uniformNegatives);
    this.negs = new Int32Array(Math.max(0, this.o.negatives));
    this.gradP = new Float64Array(this.o.dim);
    this.clock = new DecayClock(this.o.coldHalfLifeDays * DAY_MS);
    this.biasClock = new DecayClock(this.o.biasHalfLifeDays * DAY_MS);
    // a recycled user row starts over from a fresh random factor vector
    this.ctx.users.onRecycle((u) => {
      if (u < this.P.rows) this.initRows(this.P.data, u * this.o.dim, (u + 1) * this.o.dim);
    });
  }

  /** The current (faded) bias of item i. */
  biasOf(i: number): number {
    return this.bias[i] * this.biasScale;
  }

  private advanceBias(ts: number): void {
    if (ts <= this.biasNow) return;
    this.biasNow = ts;
    const f = this.biasClock.advance(ts);
    if (f !== 1) for (let c = 0; c < this.bias.length; c++) this.bias[c] *= f;
    this.biasInfl = this.biasClock.weight(ts);
    this.biasScale = 1 / this.biasInfl;
  }

  learn(event: ClickEvent): void {
    const i = this.ctx.items.intern(event.itemId);
    if (i < 0) return; // the item space is full (limits.items)
    this.observe(this.ctx.users.intern(event.userId), i, event);
  }

  observe(u: number, i: number, event: ClickEvent): void {
    this.ensure(this.ctx.users.size, this.ctx.items.size);
    const w = this.weights[TYPE_CODE[event.type]];
    if (w === 0) return;
    if (this.ctx.userOnly) {
      this.learnUserRow(u, i, w);
      return;
    }
    const f = this.clock.advance(event.ts);
    if (f !== 1) for (let c = 0; c < this.pop.length; c++) this.pop[c] *= f;
    this.advanceBias(event.ts);
    if (w < 0) {
      this.step(u, i, 0, -w, this.negs, 0);
      return;
    }
    const pw = w * this.clock.weight(event.ts);
    this.pop[i] += pw;
    const deltas = this.ctx.deltas;
    if (deltas !== undefined) deltas.scalar(i, MF_POP, pw * deltas.unit(MF_POP, this.clock));
    const n = this.sampler.draw(i, this.negs, this.rng, this.Q.rows);
    this.step(u, i, 1, w, this.negs, n);
    this.sampler.add(i);
  }

  /** While set, a step moves the user's row only (see learnUserRow). */
  private frozen = false;

  /** The user's row only: item rows, biases and popularity come from other instances' deltas. */
  private learnUserRow(u: number, i: number, w: number): void {
    const n = w > 0 ? this.sampler.draw(i, this.negs, this.rng, this.Q.rows) : 0;
    this.frozen = true;
    this.step(u, i, w > 0 ? 1 : 0, Math.abs(w), this.negs, n);
    this.frozen = false;
  }

  /**
   * One SGD step on the per-event loss documented on the class: item i with `target` and
   * weight `w`, plus `nNeg` missing entries negs[0..nNeg) with target 0 and weight c0.
   * Public so the gradient can be checked against finite differences.
   */
  step(u: number, i: number, target: number, w: number, negs: Int32Array, nNeg: number): void {
    const dim = this.o.dim;
    const lr = this.o.learningRate;
    const reg = this.o.regularization;
    const P = this.P.data;
    const pu = u * dim;
    const g = this.gradP;
    for (let d = 0; d < dim; d++) g[d] = reg * P[pu + d];
    // the positive (or explicit) entry, then the sampled missing entries with target 0
    this.stepItem(pu, i, w, target);
    for (let t = 0; t < nNeg; t++) this.stepItem(pu, negs[t], this.o.negativeWeight, 0);
    const lrU = lr * this.o.userLearningRateScale;
    for (let d = 0; d < dim; d++) P[pu + d] -= lrU * g[d];
  }

  /**
   * Item j's share of the step for user row `pu`: its factors and bias move against the loss
   * weight·(ŷ − target)²/2 (with L2), and the user's gradient collects the item's part.
   */
  private stepItem(pu: number, j: number, weight: number, target: number): void {
    const dim = this.o.dim;
    const lr = this.o.learningRate;
    const reg = this.o.regularization;
    const useBias = this.o.itemBias;
    const P = this.P.data;
    const Q = this.Q.data;
    const b = this.bias;
    const bs = this.biasScale;
    const g = this.gradP;
    const qj = j * dim;
    let dot = useBias ? b[j] * bs : 0;
    for (let d = 0; d < dim; d++) dot += P[pu + d] * Q[qj + d];
    const coef = weight * (dot - target); // ∂L/∂ŷ
    if (this.frozen) {
      for (let d = 0; d < dim; d++) g[d] += coef * Q[qj + d];
      return;
    }
    // other instances apply the item's change (the item state replica, docs/scaling.md)
    const deltas = this.ctx.deltas;
    const at = deltas === undefined ? 0 : deltas.factorRow(j);
    const delta = deltas?.fac;
    for (let d = 0; d < dim; d++) {
      const p = P[pu + d];
      const q = Q[qj + d];
      g[d] += coef * q;
      const next = q - lr * (coef * p + reg * q);
      Q[qj + d] = next;
      if (delta !== undefined) delta[at + d] += next - q;
    }
    if (useBias) {
      const bias = b[j] * bs;
      const next = bias - lr * (coef + this.o.biasRegularization * bias);
      b[j] = next * this.biasInfl;
      // in the bias clock's units relative to the batch, like the decayed counters
      if (delta !== undefined && deltas !== undefined)
        delta[at + dim] += (next - bias) * this.biasInfl * deltas.unit(SCALARS, this.biasClock);
    }
  }

  predict(u: number, i: number): number {
    const dim = this.o.dim;
    const P = this.P.data;
    const Q = this.Q.data;
    const pu = u * dim;
    const qi = i * dim;
    let dot = this.o.itemBias ? this.bias[i] * this.biasScale : 0;
    for (let d = 0; d < dim; d++) dot += P[pu + d] * Q[qi + d];
    return dot;
  }

  /**
   * Item rows start from values seeded by the item's id instead of the model's random stream,
   * so instances that exchange item deltas add them to the same starting rows.
   */
  seedItemsById = false;

  private readonly initItemRows = (data: Float32Array, from: number, to: number): void => {
    const dim = this.o.dim;
    const s = this.o.initStd;
    for (let row = from / dim; row < to / dim; row++) {
      const rng = new Rng(itemSeed(this.ctx.items.name(row)));
      for (let x = row * dim; x < (row + 1) * dim; x++) data[x] = s * rng.gauss();
    }
  };

  /** Starts every user or item row holding a NaN or infinity over from its initial values. */
  private reseedNonFinite(): number {
    const dim = this.o.dim;
    let repaired = 0;
    for (let u = 0; u < this.P.rows; u++) {
      if (finiteRow(this.P.data, u * dim, (u + 1) * dim)) continue;
      this.initRows(this.P.data, u * dim, (u + 1) * dim);
      repaired++;
    }
    for (let i = 0; i < this.Q.rows; i++) {
      if (finiteRow(this.Q.data, i * dim, (i + 1) * dim) && Number.isFinite(this.bias[i])) continue;
      this.initItemRows(this.Q.data, i * dim, (i + 1) * dim);
      this.bias[i] = 0;
      repaired++;
    }
    return repaired;
  }

  /** Another instance's item factor, bias and popularity changes (see ItemKnn's). */
  applyItemDeltas(ids: Int32Array, r: ItemDeltaRecord): void {
    this.ensure(this.ctx.users.size, this.ctx.items.size);
    this.advanceBias(r.last);
    const f = this.clock.advance(r.ref);
    if (f !== 1) for (let c = 0; c < this.pop.length; c++) this.pop[c] *= f;
    const w = this.clock.weight(r.ref);
    for (let k = 0; k < r.scalarItems.length; k++) {
      const i = ids[r.scalarItems[k]];
      const v = r.scalars[k * SCALARS + MF_POP];
      if (i >= 0 && v !== 0) this.pop[i] += v * w;
    }
    const dim = this.o.dim;
    if (r.dim !== dim) return;
    const Q = this.Q.data;
    const s = this.remoteStepWeight;
    const biasW = this.biasClock.weight(r.ref) * s;
    const rows = r.factors;
    for (let t = 0; t < r.factorItems.length; t++) {
      const i = ids[r.factorItems[t]];
      const at = t * (dim + 1);
      if (i < 0 || !finiteRow(rows, at, at + dim + 1)) continue;
      for (let d = 0; d < dim; d++) Q[i * dim + d] += rows[at + d] * s;
      if (this.o.itemBias) this.bias[i] += rows[at + dim] * biasW;
    }
  }

  private ensure(users: number, items: number): void {
    this.P.ensure(users, this.initRows);
    if (this.Q.ensure(items, this.seedItemsById ? this.initItemRows : this.initRows)) {
      this.bias = growF32(this.bias, items);
      this.pop = growF64(this.pop, items);
    }
  }

  /** Whether u has a learned row (a hybrid should not trust scores of unknown users). */
  knows(u: number): boolean {
    return u >= 0 && u < this.P.rows;
  }

  recommend(userId: string, k: number, exclude: ReadonlySet<string>): ScoredItem[] {
    const items = this.ctx.items;
    const u = this.ctx.users.get(userId);
    const r = this.ranker;
    r.begin(k);
    const n = Math.min(items.size, this.Q.rows);
    if (!this.knows(u)) {
      for (let c = 0; c < n; c++) if (this.pop[c] > 0) r.offer(c, this.pop[c], items, exclude);
      return r.finish(items, this.popReason, 0);
    }
    const dim = this.o.dim;
    const P = this.P.data;
    const Q = this.Q.data;
    const b = this.bias;
    const bs = this.biasScale;
    const useBias = this.o.itemBias;
    const pu = u * dim;
    for (let c = 0; c < n; c++) {
      const qc = c * dim;
      let dot = useBias ? b[c] * bs : 0;
      for (let d = 0; d < dim; d++) dot += P[pu + d] * Q[qc + d];
      r.offer(c, dot, items, exclude);
    }
    return r.finish(items, this.reasonFn);
  }

  save(w: SnapshotWriter): void {
    w.set('dim', this.o.dim);
    w.set('users', this.P.rows);
    w.set('items', this.Q.rows);
    w.set('rng', this.rng.state);
    w.set('ringPos', this.sampler.pos);
    w.set('ringFill', this.sampler.fill);
    w.set('origin', this.clock.origin);
    w.set('biasOrigin', this.biasClock.origin);
    w.set('biasNow', Number.isFinite(this.biasNow) ? this.biasNow : null);
    w.array('P', this.P.data, this.P.rows * this.o.dim);
    w.array('Q', this.Q.data, this.Q.rows * this.o.dim);
    w.array('bias', this.bias, this.Q.rows);
    w.array('pop', this.pop, this.Q.rows);
    w.array('ring', this.sampler.ring);
  }

  load(r: SnapshotReader): void {
    if (r.num('dim') !== this.o.dim)
      throw new Error(`snapshot has dim ${r.num('dim')}, model has ${this.o.dim}`);
    const zero = (): void => undefined;
    this.P.rows = 0;
    this.Q.rows = 0;
    this.P.ensure(r.num('users'), zero);
    this.Q.ensure(r.num('items'), zero);
    this.P.data.set(r.f32('P'));
    this.Q.data.set(r.f32('Q'));
    this.bias = growF32(new Float32Array(0), this.Q.rows);
    this.bias.set(r.f32('bias'));
    this.pop = growF64(new Float64Array(0), this.Q.rows);
    this.pop.set(r.f64('pop'));
    this.repairedRows = this.reseedNonFinite();
    this.sampler.load(r.i32('ring'), r.num('ringPos'), r.num('ringFill'));
    this.rng.state = r.num('rng');
    this.clock.origin = r.num('origin');
    this.biasClock.origin = r.num('biasOrigin');
    const now = r.num('biasNow');
    this.biasNow = Number.isNaN(now) ? Number.NEGATIVE_INFINITY : now;
    this.biasInfl = Number.isNaN(now) ? 1 : this.biasClock.weight(now);
    this.biasScale = 1 / this.biasInfl;
  }

  snapshot(): Uint8Array {
    return snapshotComponent(this);
  }

  restore(bytes: Uint8Array): void {
    restoreComponent(this, bytes);
  }
}

/**
 * Whether a factor row (of a delta record or a restored snapshot) is usable: one NaN or infinity
 * would spread to every score. Values whose sum overflows count as not finite too.
 */
function finiteRow(a: Float32Array, from: number, to: number): boolean {
  let sum = 0;
  for (let x = from; x < to; x++) sum += a[x] as number;
  return Number.isFinite(sum);
}
