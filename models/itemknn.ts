import type { ClickEvent, ScoredItem } from './event.js';
import type { Recommender } from './recommender.js';
import { growF64, growI32 } from './core/arrays.js';
import { ModelContext, Ranker, ReasonCache } from './core/context.js';
import { DecayClock } from './core/decay.js';
import { UserHistory } from './core/history.js';
import {
  SnapshotReader,
  SnapshotWriter,
  restoreComponent,
  snapshotComponent,
} from './core/snapshot.js';
import { SparseRows, TOP_STRIDE } from './core/sparse-rows.js';
import { allSteps } from './core/steps.js';
import { stripUndefined } from './core/options.js';
import { DAY_MS, TYPE_CODE, isBuyCode, weightTable, type EventWeights } from './core/weights.js';
import { KNN_POP, SCALARS, type ItemDeltaRecord } from './core/item-deltas.js';

export interface ItemKnnOptions {
  /** Distinct recent items per user that vote for neighbours (default 20). */
  historySize?: number;
  /** Event-time half-life of co-visitation counts, in days (default 120). */
  halfLifeDays?: number;
  /**
   * A new event pairs with this many of the user's most recent items (default 6, at most
   * historySize). In basket data the neighbours in the sequence are the related ones; far
   * pairs mostly add noise, and pair updates are the main cost of learning.
   */
  pairWindow?: number;
  /** A pair p+1 positions apart in the user's sequence counts pairDecay^p (default 0.7). */
  pairDecay?: number;
  /** Neighbours kept per item for scoring (default 50). */
  neighbors?: number;
  /**
   * Co-visited items counted per item at most (default 4 x neighbors): the bound of a row's
   * pairs. A full row drops its lighter half (in decayed mass) outside the top neighbours.
   */
  pairsPerItem?: number;
  /** Vote of the p-th most recent history item is positionDecay^p (default 0.5). */
  positionDecay?: number;
  /**
   * The p-th most recent item contributes only its top neighbors·positionDecay^p neighbours
   * (at least minNeighbors): the votes cut off are tiny, and this bounds the work per call (default true).
   */
  taperNeighbors?: boolean;
  /** Floor of that tapered count (default 2). */
  minNeighbors?: number;
  /** Two events further apart than this are in different sessions (default 60 min). */
  sessionGapMinutes?: number;
  /** Weight of a pair from different sessions relative to one from the same session (default 0.5). */
  crossSessionWeight?: number;
  /** Weight of "i was followed by j" counted back onto j -> i (default 1: symmetric). */
  backwardWeight?: number;
  /** A history item's votes are divided by its row mass^this, so hubs do not dominate (default 0.5). */
  rowNormalization?: number;
  /** Candidate scores are divided by popularity^this, to favour specific over generic items (default 0.3). */
  popularityPenalty?: number;
  eventWeights?: Partial<EventWeights>;
  /** Fill the list with decayed-popular items when the neighbours run out (default true). */
  backfill?: boolean;
}

const DEFAULTS: Required<Omit<ItemKnnOptions, 'eventWeights'>> = {
  historySize: 20,
  pairWindow: 6,
  halfLifeDays: 120,
  neighbors: 50,
  pairsPerItem: 0,
  positionDecay: 0.5,
  taperNeighbors: true,
  minNeighbors: 2,
  pairDecay: 0.7,
  sessionGapMinutes: 60,
  crossSessionWeight: 0.5,
  backwardWeight: 1,
  rowNormalization: 0.5,
  popularityPenalty: 0.3,
  backfill: true,
};

/**
 * Co-visitation item-kNN: two items count as related when one user interacted with both within
 * a window of `historySize` distinct items; a user's recent items vote for their neighbours.
 * Counts decay in event time, so seasonal pairs fade.
 */
export class ItemKnnRecommender implements Recommender {
  readonly name: string = 'itemknn';
  readonly ctx: ModelContext;
  readonly history: UserHistory;
  private readonly o: Required<Omit<ItemKnnOptions, 'eventWeights'>>;
  private readonly pairWindow: number;
  private readonly weights: Float64Array;
  private readonly clock: DecayClock;
  private readonly co: SparseRows;
  /** decayed event mass per item (for the popularity penalty and backfill) */
  pop = new Float64Array(0);
  /** pop^-popularityPenalty, kept per item so scoring does no Math.pow */
  private penalty = new Float64Array(0);
  /** decayed pair mass per row (for row normalisation) */
  private rowMass = new Float64Array(0);
  private readonly posWeight: Float64Array;
  private readonly posCap: Int32Array;
  private readonly pairWeight: Float64Array;
  private readonly gapMs: number;

  // scratch for recommend()
  private stamp = new Int32Array(0);
  private epoch = 0;
  private acc = new Float64Array(0);
  private best = new Float64Array(0);
  private src = new Int32Array(0);
  private touched = new Int32Array(0);
  private nTouched = 0;
  private readonly ranker = new Ranker();
  private readonly boughtWith = new ReasonCache('bought together with ');
  private readonly viewedWith = new ReasonCache('viewed together with ');
  private srcUser = 0;
  private finalized = false;

  constructor(opts: ItemKnnOptions = {}, ctx?: ModelContext) {
    this.o = { ...DEFAULTS, ...stripUndefined(opts) };
    this.ctx = ctx ?? new ModelContext();
    this.weights = weightTable(opts.eventWeights);
    this.clock = new DecayClock(this.o.halfLifeDays * DAY_MS);
    const pairs = this.o.pairsPerItem > 0 ? this.o.pairsPerItem : 4 * this.o.neighbors;
    this.co = new SparseRows(this.o.neighbors, pairs);
    this.history = new UserHistory(this.o.historySize);
    this.posWeight = new Float64Array(this.o.historySize);
    this.posCap = new Int32Array(this.o.historySize);
    this.pairWeight = new Float64Array(this.o.historySize);
    for (let p = 0; p < this.o.historySize; p++) {
      this.posWeight[p] = Math.pow(this.o.positionDecay, p);
      this.pairWeight[p] = Math.pow(this.o.pairDecay, p);
      this.posCap[p] = this.o.taperNeighbors
        ? Math.max(this.o.minNeighbors, Math.ceil(this.o.neighbors * this.posWeight[p]))
        : this.o.neighbors;
    }
    this.gapMs = this.o.sessionGapMinutes * 60_000;
    this.pairWindow = Math.min(this.o.pairWindow, this.o.historySize);
    this.ctx.users.onRecycle((u) => this.history.forget(u));
  }

  learn(event: ClickEvent): void {
    const i = this.ctx.items.intern(event.itemId);
    if (i < 0) return; // the item space is full (limits.items)
    this.observe(this.ctx.users.intern(event.userId), i, event);
  }

  /** learn() with ids already interned in the shared context (hybrids call this). */
  observe(u: number, i: number, event: ClickEvent): void {
    const code = TYPE_CODE[event.type];
    const tw = this.weights[code];
    this.ensure(this.ctx.users.size, this.ctx.items.size);
    if (!(tw > 0)) return;
    const ts = event.ts;
    if (this.ctx.userOnly) {
      this.history.push(u, i, ts, code);
      return;
    }
    const f = this.clock.advance(ts);
    if (f !== 1) this.rescale(f);
    const w = this.clock.weight(ts) * tw;
    this.pop[i] += w;
    this.penalty[i] = Math.pow(this.pop[i] + 1e-30, -this.o.popularityPenalty);
    const d = this.ctx.deltas;
    const du = d === undefined ? 0 : d.unit(KNN_POP, this.clock);
    if (d !== undefined) d.scalar(i, KNN_POP, w * du);

    const h = this.history;
    const base = h.start(u);
    const n = Math.min(h.len[u], this.pairWindow);
    const gap = this.gapMs;
    const cross = this.o.crossSessionWeight;
    const back = this.o.backwardWeight;
    for (let p = 0; p < n; p++) {
      const j = h.items[base + p];
      if (j === i) continue;
      const pw = this.weights[h.types[base + p]];
      let pairW = Math.sqrt(w * this.clock.weight(ts) * (pw > 0 ? pw : 0));
      if (Math.abs(ts - h.ts[base + p]) > gap) pairW *= cross;
      pairW *= this.pairWeight[p];
      this.co.add(j, i, pairW);
      this.rowMass[j] += pairW;
      if (d !== undefined) d.pair(j, i, pairW * du);
      if (back > 0) {
        this.co.add(i, j, pairW * back);
        this.rowMass[i] += pairW * back;
        if (d !== undefined) d.pair(i, j, pairW * back * du);
      }
    }
    h.push(u, i, ts, code);
  }

  /**
   * Another instance's co-visitation and popularity changes (ids: the record's items interned
   * here, -1 where the item space is full). Pair weights only grow, as when learning.
   */
  applyItemDeltas(ids: Int32Array, r: ItemDeltaRecord): void {
    this.ensure(this.ctx.users.size, this.ctx.items.size);
    const f = this.clock.advance(r.ref);
    if (f !== 1) this.rescale(f);
    const w = this.clock.weight(r.ref);
    for (let k = 0; k < r.scalarItems.length; k++) {
      const i = ids[r.scalarItems[k]];
      const v = r.scalars[k * SCALARS + KNN_POP];
      if (i < 0 || v === 0) continue;
      this.pop[i] += v * w;
      this.penalty[i] = Math.pow(this.pop[i] + 1e-30, -this.o.popularityPenalty);
    }
    for (let t = 0; t < r.pairRows.length; t++) {
      const row = ids[r.pairRows[t]];
      const col = ids[r.pairCols[t]];
      const x = r.pairValues[t] * w;
      if (row < 0 || col < 0 || !(x > 0)) continue;
      this.co.add(row, col, x);
      this.rowMass[row] += x;
    }
  }

  private ensure(users: number, items: number): void {
    this.history.ensureUsers(users);
    if (items > this.pop.length) {
      this.pop = growF64(this.pop, items);
      this.rowMass = growF64(this.rowMass, items);
      this.penalty = growF64(this.penalty, items);
      this.acc = growF64(this.acc, items);
      this.best = growF64(this.best, items);
      this.src = growI32(this.src, items);
      this.stamp = growI32(this.stamp, items);
      this.touched = growI32(this.touched, items);
    }
    this.co.ensureRows(items);
  }

  private rescale(f: number): void {
    this.co.scale(f);
    const pf = f > 0 ? Math.pow(f, -this.o.popularityPenalty) : 0;
    for (let i = 0; i < this.pop.length; i++) {
      this.pop[i] *= f;
      this.rowMass[i] *= f;
      this.penalty[i] *= pf;
    }
  }

  /**
   * Accumulates neighbour votes of u's history into the scratch arrays; returns how many
   * candidates were touched. Hybrids read acc/best/src through the accessors below.
   */
  collect(u: number): number {
    this.epoch++;
    this.nTouched = 0;
    this.srcUser = u;
    this.finalized = false;
    if (u < 0 || u >= this.history.len.length) return 0;
    const h = this.history;
    const base = h.start(u);
    const n = h.len[u];
    const alpha = this.o.rowNormalization;
    const stamp = this.stamp;
    const acc = this.acc;
    const best = this.best;
    const src = this.src;
    const epoch = this.epoch;
    for (let p = 0; p < n; p++) {
      const j = h.items[base + p];
      const mass = this.rowMass[j];
      if (!(mass > 0)) continue;
      const wj = this.posWeight[p] / (alpha === 0.5 ? Math.sqrt(mass) : Math.pow(mass, alpha));
      const m = Math.min(this.co.top(j), this.posCap[p]);
      if (m === 0) continue;
      const ids = this.co.topInts(j);
      const vals = this.co.topFloats(j);
      const b = this.co.topBase(j);
      for (let t = b; t < b + m * TOP_STRIDE; t += TOP_STRIDE) {
        const c = ids[t];
        const v = wj * vals[t + 1];
        if (stamp[c] !== epoch) {
          stamp[c] = epoch;
          acc[c] = v;
          best[c] = v;
          src[c] = p;
          this.touched[this.nTouched++] = c;
        } else {
          acc[c] += v;
          if (v > best[c]) {
            best[c] = v;
            src[c] = p;
          }
        }
      }
    }
    return this.nTouched;
  }

  /**
   * After collect(): turns each candidate's votes into its final score (see score()) in place
   * and returns the largest, so a hybrid can normalise without a second lookup per item.
   */
  finalizeScores(): number {
    let max = 0;
    const acc = this.acc;
    const pen = this.penalty;
    for (let t = 0; t < this.nTouched; t++) {
      const c = this.touched[t];
      const v = (acc[c] *= pen[c]);
      if (v > max) max = v;
    }
    this.finalized = true;
    return max;
  }

  candidate(t: number): number {
    return this.touched[t];
  }

  /** Score of a touched candidate after the popularity penalty. */
  score(c: number): number {
    return this.finalized ? this.acc[c] : this.acc[c] * this.penalty[c];
  }

  /** score(c) for candidates of the last collect(), 0 for anything else. */
  scoreOrZero(c: number): number {
    return this.stamp[c] === this.epoch ? this.score(c) : 0;
  }

  isCandidate(c: number): boolean {
    return this.stamp[c] === this.epoch;
  }

  /** "bought/viewed together with X" for a candidate of the last collect(). */
  reasonFor(c: number): string {
    const h = this.history;
    const e = h.start(this.srcUser) + this.src[c];
    const j = h.items[e];
    return isBuyCode(h.types[e])
      ? this.boughtWith.get(j, this.ctx.items)
      : this.viewedWith.get(j, this.ctx.items);
  }

  private readonly reasonOf = (c: number): string =>
    this.isCandidate(c) ? this.reasonFor(c) : 'popular now';

  recommend(userId: string, k: number, exclude: ReadonlySet<string>): ScoredItem[] {
    const items = this.ctx.items;
    const n = this.collect(this.ctx.users.get(userId));
    const r = this.ranker;
    r.begin(k);
    for (let t = 0; t < n; t++) {
      const c = this.touched[t];
      r.offer(c, this.score(c), items, exclude);
    }
    if (this.o.backfill && r.heap.size < k) {
      // below every neighbour score (those are >= 0), ordered by popularity
      let max = 0;
      for (let c = 0; c < items.size; c++) if (this.pop[c] > max) max = this.pop[c];
      const inv = max > 0 ? 1 / max : 0;
      for (let c = 0; c < items.size; c++) {
        if (this.stamp[c] !== this.epoch) r.offer(c, this.pop[c] * inv - 2, items, exclude);
      }
    }
    return r.finish(items, this.reasonOf);
  }

  save(w: SnapshotWriter): void {
    allSteps(this.saveSteps(w));
  }

  /** save() in two parts (histories, then co-visitation rows: about 50-60 ms each at 1 M events). */
  *saveSteps(w: SnapshotWriter): Generator<void, void, undefined> {
    const users = this.ctx.users.size;
    const items = this.ctx.items.size;
    w.set('origin', this.clock.origin);
    w.array('pop', this.pop, items);
    w.array('rowMass', this.rowMass, items);
    this.history.save(w.scope('hist.'), users);
    yield;
    this.co.save(w.scope('co.'));
  }

  load(r: SnapshotReader): void {
    const users = this.ctx.users.size;
    const items = this.ctx.items.size;
    this.clock.origin = r.num('origin');
    this.pop = new Float64Array(0);
    this.rowMass = new Float64Array(0);
    this.penalty = new Float64Array(0);
    this.ensure(users, items);
    this.pop.set(r.f64('pop'));
    for (let c = 0; c < items; c++)
      this.penalty[c] = Math.pow(this.pop[c] + 1e-30, -this.o.popularityPenalty);
    this.rowMass.set(r.f64('rowMass'));
    this.history.load(r.scope('hist.'), users);
    this.co.load(r.scope('co.'));
  }

  snapshot(): Uint8Array {
    return snapshotComponent(this);
  }

  restore(bytes: Uint8Array): void {
    restoreComponent(this, bytes);
  }
}
