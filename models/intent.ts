import type { ClickEvent, ItemEvent } from './event.js';
import { growF64, growI32 } from './core/arrays.js';
import { ReasonCache, type ModelContext } from './core/context.js';
import { DecayClock } from './core/decay.js';
import { IdMap } from './core/id-map.js';
import { stripUndefined } from './core/options.js';
import type { SnapshotReader, SnapshotWriter } from './core/snapshot.js';
import { DAY_MS, TYPE_CODE, weightTable, type EventWeights } from './core/weights.js';
import { INTENT, SCALARS, type ItemDeltaRecord } from './core/item-deltas.js';

export interface IntentOptions {
  /** Half-life of the per-category item popularity, in days (default 1): a new favourite wins within a day or two. */
  halfLifeDays?: number;
  /** Best items kept per category, the candidates of an intent (default 30). */
  perCategory?: number;
  /** Categories remembered per user (default 4). */
  slots?: number;
  /** Every new event of the user multiplies the older intent by this (default 0.5). */
  eventDecay?: number;
  /** A new session (gap > sessionGapMinutes) multiplies the older intent by this as well (default 0.3). */
  sessionDecay?: number;
  sessionGapMinutes?: number;
  /** Default: every look counts like a purchase (INTENT_EVENT_WEIGHTS). */
  eventWeights?: Partial<EventWeights>;
}

/**
 * Intent is about where the user is looking now, so a view says as much as a purchase: with
 * the usual weights (view 1/6 of a purchase) one old basket outvoted a whole new session.
 * Equal weights scored better on all three synthetic streams (docs/BENCHMARKS.md).
 */
export const INTENT_EVENT_WEIGHTS: Partial<EventWeights> = {
  view: 1,
  click: 1,
  add_to_cart: 1,
  purchase: 1,
  push_click: 1,
  push_open: 0.5,
  remove_from_cart: 0,
};

const DEFAULTS: Required<Omit<IntentOptions, 'eventWeights'>> = {
  halfLifeDays: 1,
  perCategory: 30,
  slots: 4,
  eventDecay: 0.5,
  sessionDecay: 0.3,
  sessionGapMinutes: 60,
};

/**
 * Short-term intent: the categories of the user's last events, recency-weighted so the current
 * session dominates, and per category its currently popular items (fast forgetting). A user who
 * changed taste gets the new category's best-sellers from the first event of it, whatever their
 * long history says. Categories come from the catalog (topic `items`); an event's own category
 * only counts for its user's intent, and only when the catalog knows it (as in `trending`).
 */
export class SessionIntent {
  private readonly o: Required<Omit<IntentOptions, 'eventWeights'>>;
  private readonly weights: Float64Array;
  private readonly clock: DecayClock;
  private readonly gapMs: number;
  readonly categories = new IdMap();
  /** category per item, -1 unknown (bounded by limits.items) */
  private itemCat = new Int32Array(0);
  /** decayed weighted mass per item (inflated units, see DecayClock) */
  private mass = new Float64Array(0);
  /** per category its `perCategory` best items, best first (bounded by limits.tokens × perCategory) */
  private catTop = new Int32Array(0);
  private catLen = new Int32Array(0);
  /** per user `slots` (category, weight) pairs and the time of the last event (limits.users rows) */
  private userCat = new Int32Array(0);
  private userW = new Float64Array(0);
  private userTs = new Float64Array(0);

  // scratch for collect()
  private stamp = new Int32Array(0);
  private epoch = 0;
  private acc = new Float64Array(0);
  private cands = new Int32Array(0);
  private nCands = 0;
  private shareOf = new Float64Array(0);
  private catStamp = new Int32Array(0);
  private readonly inCat = new ReasonCache('popular now in ');

  constructor(
    opts: IntentOptions = {},
    private readonly ctx: ModelContext,
  ) {
    this.o = { ...DEFAULTS, ...stripUndefined(opts) };
    this.weights = weightTable({ ...INTENT_EVENT_WEIGHTS, ...opts.eventWeights });
    this.clock = new DecayClock(this.o.halfLifeDays * DAY_MS);
    this.gapMs = this.o.sessionGapMinutes * 60_000;
    ctx.tokenMap(this.categories);
    ctx.users.onRecycle((u) => {
      const s = this.o.slots;
      if ((u + 1) * s > this.userCat.length) return;
      this.userCat.fill(-1, u * s, (u + 1) * s);
      this.userW.fill(0, u * s, (u + 1) * s);
      this.userTs[u] = 0;
    });
  }

  learnItem(item: ItemEvent): void {
    if (item.category === undefined) return;
    const i = this.ctx.items.intern(item.itemId);
    if (i < 0) return;
    this.ensure();
    const cat = this.categories.intern(item.category);
    if (cat === this.itemCat[i]) return;
    const old = this.itemCat[i];
    if (old >= 0) this.dropFromTop(old, i);
    this.itemCat[i] = cat;
  }

  observe(u: number, i: number, event: ClickEvent): void {
    this.ensure();
    const tw = this.weights[TYPE_CODE[event.type]];
    if (!(tw > 0)) return;
    const known = event.category !== undefined ? this.categories.get(event.category) : -1;
    const cat = this.itemCat[i] >= 0 ? this.itemCat[i] : known;
    if (cat >= 0) this.pushIntent(u, cat, tw, event.ts);
    const ic = this.itemCat[i];
    if (ic < 0 || this.ctx.userOnly) return;
    const f = this.clock.advance(event.ts);
    if (f !== 1) for (let c = 0; c < this.mass.length; c++) this.mass[c] *= f;
    const add = tw * this.clock.weight(event.ts);
    this.mass[i] += add;
    const d = this.ctx.deltas;
    if (d !== undefined) d.scalar(i, INTENT, add * d.unit(INTENT, this.clock));
    this.raise(ic, i);
  }

  /** Another instance's category mass of items whose category is known here. */
  applyItemDeltas(ids: Int32Array, r: ItemDeltaRecord): void {
    this.ensure();
    const f = this.clock.advance(r.ref);
    if (f !== 1) for (let c = 0; c < this.mass.length; c++) this.mass[c] *= f;
    const w = this.clock.weight(r.ref);
    for (let k = 0; k < r.scalarItems.length; k++) {
      const i = ids[r.scalarItems[k]];
      const add = r.scalars[k * SCALARS + INTENT];
      if (i < 0 || add === 0 || this.itemCat[i] < 0) continue;
      this.mass[i] += add * w;
      this.raise(this.itemCat[i], i);
    }
  }

  private pushIntent(u: number, cat: number, w: number, ts: number): void {
    const s = this.o.slots;
    const base = u * s;
    let decay = this.o.eventDecay;
    if (ts - this.userTs[u] > this.gapMs) decay *= this.o.sessionDecay;
    this.userTs[u] = ts;
    let slot = -1;
    let weakest = base;
    for (let p = base; p < base + s; p++) {
      this.userW[p] *= decay;
      if (this.userCat[p] === cat) slot = p;
      if (this.userW[p] < this.userW[weakest]) weakest = p;
    }
    if (slot < 0) {
      slot = weakest;
      this.userCat[slot] = cat;
      this.userW[slot] = 0;
    }
    this.userW[slot] += w;
  }

  /** Item i's mass only grew: move it up its category's top list (or into it). */
  private raise(cat: number, i: number): void {
    const m = this.o.perCategory;
    const base = cat * m;
    const top = this.catTop;
    let len = this.catLen[cat];
    let p = base;
    while (p < base + len && top[p] !== i) p++;
    if (p === base + len) {
      if (len < m) this.catLen[cat] = ++len;
      else if (this.mass[top[base + m - 1]] >= this.mass[i]) return;
      p = base + len - 1;
    }
    const v = this.mass[i];
    while (p > base && this.mass[top[p - 1]] < v) {
      top[p] = top[p - 1];
      p--;
    }
    top[p] = i;
  }

  private dropFromTop(cat: number, i: number): void {
    const base = cat * this.o.perCategory;
    const len = this.catLen[cat];
    const top = this.catTop;
    for (let p = base; p < base + len; p++) {
      if (top[p] !== i) continue;
      top.copyWithin(p, p + 1, base + len);
      this.catLen[cat] = len - 1;
      return;
    }
  }

  private ensure(): void {
    const items = this.ctx.items.size;
    if (items > this.itemCat.length) {
      const old = this.itemCat.length;
      this.itemCat = growI32(this.itemCat, items);
      this.itemCat.fill(-1, old);
      this.mass = growF64(this.mass, items);
      this.stamp = growI32(this.stamp, items);
      this.acc = growF64(this.acc, items);
      this.cands = growI32(this.cands, items);
    }
    const cats = this.categories.size;
    if (cats > this.catLen.length) {
      this.catLen = growI32(this.catLen, cats);
      this.catTop = growI32(this.catTop, this.catLen.length * this.o.perCategory);
      this.shareOf = growF64(this.shareOf, this.catLen.length);
      this.catStamp = growI32(this.catStamp, this.catLen.length);
    }
    const need = this.ctx.users.size * this.o.slots;
    if (need > this.userCat.length) {
      const old = this.userCat.length;
      this.userCat = growI32(this.userCat, need);
      this.userCat.fill(-1, old);
      this.userW = growF64(this.userW, need);
      this.userTs = growF64(this.userTs, this.ctx.users.size);
    }
  }

  /**
   * The user's intent candidates: every item of the top lists of their intent categories,
   * scored share(category) × mass / the category's best mass (so in [0, 1]). Returns how many.
   */
  collect(u: number): number {
    this.epoch++;
    this.nCands = 0;
    this.ensure();
    const s = this.o.slots;
    if (u < 0 || (u + 1) * s > this.userCat.length) return 0;
    let total = 0;
    for (let p = u * s; p < (u + 1) * s; p++) if (this.userCat[p] >= 0) total += this.userW[p];
    if (!(total > 0)) return 0;
    const m = this.o.perCategory;
    for (let p = u * s; p < (u + 1) * s; p++) {
      const cat = this.userCat[p];
      if (cat < 0 || !(this.userW[p] > 0)) continue;
      const share = this.userW[p] / total;
      this.shareOf[cat] = share;
      this.catStamp[cat] = this.epoch;
      const len = this.catLen[cat];
      if (len === 0) continue;
      const norm = share / this.mass[this.catTop[cat * m]];
      for (let q = cat * m; q < cat * m + len; q++) {
        const c = this.catTop[q];
        this.stamp[c] = this.epoch;
        this.acc[c] = norm * this.mass[c];
        this.cands[this.nCands++] = c;
      }
    }
    return this.nCands;
  }

  candidate(t: number): number {
    return this.cands[t];
  }

  /** Intent score of c in the last collect() (0 when c is not a candidate). */
  score(c: number): number {
    return this.stamp[c] === this.epoch ? this.acc[c] : 0;
  }

  /**
   * After a collect() that found an intent: c's category's share of it (0 when outside it), or
   * -1 when c's category is unknown (no opinion).
   */
  agreement(c: number): number {
    const cat = c < this.itemCat.length ? this.itemCat[c] : -1;
    if (cat < 0) return -1;
    return this.catStamp[cat] === this.epoch ? this.shareOf[cat] : 0;
  }

  /** "popular in <category> now" for a candidate of the last collect(). */
  reasonFor(c: number): string {
    const cat = c < this.itemCat.length ? this.itemCat[c] : -1;
    return cat >= 0 ? this.inCat.get(cat, this.categories) : 'popular now';
  }

  save(w: SnapshotWriter): void {
    const users = this.ctx.users.size;
    const items = this.ctx.items.size;
    const cats = this.categories.size;
    w.set('origin', this.clock.origin);
    w.set('categories', this.categories.toArray());
    w.array('itemCat', this.itemCat, items);
    w.array('mass', this.mass, items);
    w.array('catLen', this.catLen, cats);
    w.array('catTop', this.catTop, cats * this.o.perCategory);
    w.array('userCat', this.userCat, users * this.o.slots);
    w.array('userW', this.userW, users * this.o.slots);
    w.array('userTs', this.userTs, users);
  }

  load(r: SnapshotReader): void {
    this.clock.origin = r.num('origin');
    this.categories.load(r.strings('categories'));
    this.itemCat = new Int32Array(0);
    this.catLen = new Int32Array(0);
    this.userCat = new Int32Array(0);
    this.ensure();
    this.itemCat.set(r.i32('itemCat'));
    this.mass.set(r.f64('mass'));
    this.catLen.set(r.i32('catLen'));
    this.catTop.set(r.i32('catTop'));
    this.userCat.set(r.i32('userCat'));
    this.userW.set(r.f64('userW'));
    this.userTs.set(r.f64('userTs'));
  }
}
