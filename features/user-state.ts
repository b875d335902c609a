import type { ClickEvent } from '../models/event.js';
import { TYPE_CODE } from '../models/core/weights.js';
import { priceBandLabel, priceBandOf, type FeatureConfig } from './config.js';
import { growF64, growI32, growU8 } from '../models/core/arrays.js';
import { PriceBands } from './price-bands.js';
import { UserAffinity } from './user-affinity.js';
import type { FeatureSet } from './types.js';

/** The last closed session of a user, readable after the session engine dropped it. */
export interface SessionSummary {
  readonly start: number;
  readonly end: number;
  readonly firstTs: number;
  readonly lastTs: number;
  readonly depth: number;
  readonly distinctItems: number;
}

// Times and sums per user slot, in one Float64Array (no object, no boxed number per field).
const LAST_PURCHASE = 0;
const PRICE_NUM = 1;
const PRICE_DEN = 2;
const PRICE_T = 3;
/**
 * The last closed session's SessionSummary fields but `depth` (in `depths`); whether there is
 * one is a bit of `flags`. Columns, not an object per user: the object and its four boxed times
 * were about 136 B per user with a closed session (issue 12).
 */
const S_START = 4;
const S_END = 5;
const S_FIRST = 6;
const S_LAST = 7;
/** The distinct items are an estimate past the exact limit, not always an integer. */
const S_DISTINCT = 8;
const SCALARS = 9;
// Bits of `flags`: one byte per slot instead of two doubles (issue 12).
/** Whether the user has learned any price (the bands exist). */
const PRICED = 1;
/** Whether the slot holds a closed session (0 in a slot never written, as for one reset). */
const S_HAS = 2;

/**
 * The unwindowed per-user features (last purchase, decayed category affinity, price band, last
 * closed session), column-wise by EntityIndex slot. Bound: one row per user slot, so the users'
 * EntityIndex cap (`maxUsers`) and TTL bound it; per user at most `maxCategoriesPerUser`
 * affinity labels and the categories of one batch.
 */
export class UserStates {
  private scalars = new Float64Array(0);
  /** PRICED and S_HAS bits per slot. */
  private flags = new Uint8Array(0);
  /**
   * The closed session's depth per slot: an event count (whole, never negative), so 4 bytes
   * instead of a double's 8 hold it exactly up to 2^31 − 1 events in one session.
   */
  private depths = new Int32Array(0);
  /** Decayed weight per price band and slot, as of PRICE_T. */
  private readonly bands: PriceBands;
  private readonly nBands: number;
  private readonly affinity: UserAffinity;
  /**
   * Categories touched in the batch being ingested; rows are emitted for these only. Bound: the
   * categories of one batch per user, and only kept while rows are emitted (`emitRows`); a Map
   * by slot, so users the batch did not touch cost nothing (a dense array held 8 B per slot).
   */
  private readonly batchCategories = new Map<number, Set<string>>();

  constructor(
    private readonly config: FeatureConfig,
    private readonly weights: Float64Array,
  ) {
    this.nBands = config.priceBandEdges.length + 1;
    this.bands = new PriceBands(this.nBands);
    this.affinity = new UserAffinity(config.affinityHalfLifeMs, config.maxCategoriesPerUser);
  }

  /** A fresh row for a new (or recycled) slot. */
  reset(slot: number): void {
    // doubling, then by a quarter (models/core/arrays.ts): at most 25 % unused tail
    this.scalars = growF64(this.scalars, (slot + 1) * SCALARS);
    this.flags = growU8(this.flags, slot + 1);
    this.depths = growI32(this.depths, slot + 1);
    const s = slot * SCALARS;
    this.scalars[s + LAST_PURCHASE] = -Infinity;
    this.scalars[s + PRICE_NUM] = 0;
    this.scalars[s + PRICE_DEN] = 0;
    this.scalars[s + PRICE_T] = -Infinity;
    this.scalars.fill(0, s + S_START, s + SCALARS);
    this.flags[slot] = 0;
    this.depths[slot] = 0;
    this.bands.reset(slot);
    this.affinity.reset(slot);
    this.batchCategories.delete(slot);
  }

  learn(
    slot: number,
    e: ClickEvent,
    category: string | undefined,
    price: number | undefined,
  ): void {
    const ts = e.ts;
    const s = slot * SCALARS;
    if (e.type === 'purchase' && ts > this.scalars[s + LAST_PURCHASE])
      this.scalars[s + LAST_PURCHASE] = ts;
    const w = this.weights[TYPE_CODE[e.type]];
    if (category !== undefined && w !== 0) {
      this.affinity.add(slot, category, w, ts);
      // Only pushRows() empties it: without rows to emit (replay) it would keep every category.
      if (this.config.emitRows) {
        let b = this.batchCategories.get(slot);
        if (b === undefined) this.batchCategories.set(slot, (b = new Set()));
        b.add(category);
      }
    }
    // Removals say "not this", not "not this price": only positive interest shapes the band.
    if (price !== undefined && w > 0) this.learnPrice(slot, price, w, ts);
  }

  lastPurchaseTs(slot: number): number {
    return this.scalars[slot * SCALARS + LAST_PURCHASE];
  }

  /** The slot's categories with a positive decayed affinity at `ts`, best first. */
  affinityRanked(slot: number, ts: number): { label: string; score: number }[] {
    return this.affinity.ranked(slot, ts);
  }

  sessionOf(slot: number): SessionSummary | undefined {
    const sc = this.scalars;
    const o = slot * SCALARS;
    if ((this.flags[slot] & S_HAS) === 0) return undefined;
    return {
      start: sc[o + S_START] as number,
      end: sc[o + S_END] as number,
      firstTs: sc[o + S_FIRST] as number,
      lastTs: sc[o + S_LAST] as number,
      depth: this.depths[slot],
      distinctItems: sc[o + S_DISTINCT] as number,
    };
  }

  /** Keeps the latest-starting closed session. */
  closeSession(slot: number, s: SessionSummary): void {
    const sc = this.scalars;
    const o = slot * SCALARS;
    if ((this.flags[slot] & S_HAS) !== 0 && !((sc[o + S_START] as number) <= s.start)) return;
    this.flags[slot] |= S_HAS;
    sc[o + S_START] = s.start;
    sc[o + S_END] = s.end;
    sc[o + S_FIRST] = s.firstTs;
    sc[o + S_LAST] = s.lastTs;
    this.depths[slot] = s.depth;
    sc[o + S_DISTINCT] = s.distinctItems;
  }

  priceBand(slot: number): { band: number; label: string; meanPrice: number } | undefined {
    const s = slot * SCALARS;
    if ((this.flags[slot] & PRICED) === 0) return undefined;
    const best = this.bands.best(slot);
    const den = this.scalars[s + PRICE_DEN];
    return {
      band: best,
      label: priceBandLabel(best, this.config.priceBandEdges),
      meanPrice: den > 0 ? this.scalars[s + PRICE_NUM] / den : 0,
    };
  }

  /** The `user_state` set of a user the batches touched: recency, price, new affinities. */
  pushRows(userId: string, slot: number, lastTs: number, ts: number, rows: FeatureSet[]): void {
    const names: string[] = ['last_event_ts'];
    const values: number[] = [lastTs];
    const lastPurchase = this.lastPurchaseTs(slot);
    if (lastPurchase > -Infinity) {
      names.push('last_purchase_ts');
      values.push(lastPurchase);
    }
    const p = this.priceBand(slot);
    if (p) {
      names.push('price_band', 'price_mean');
      values.push(p.band, p.meanPrice);
    }
    const cats = this.batchCategories.get(slot);
    if (cats && this.affinity.has(slot)) {
      for (const c of cats) {
        names.push(`affinity:${c}`);
        values.push(this.affinity.valueAt(slot, c, lastTs));
      }
    }
    this.batchCategories.delete(slot);
    rows.push({
      entity: 'user',
      key: userId,
      family: 'user_state',
      windowStart: 0,
      windowEnd: 0,
      ts,
      names,
      values,
    });
  }

  /** Same order-independent decay as DecayedScores, with one reference time for all bands. */
  private learnPrice(slot: number, price: number, w: number, ts: number): void {
    const sc = this.scalars;
    const s = slot * SCALARS;
    const half = this.config.affinityHalfLifeMs;
    let weight = w;
    const t = sc[s + PRICE_T];
    if (ts > t) {
      if (t > -Infinity) {
        const k = Math.pow(2, -(ts - t) / half);
        this.bands.scale(slot, k);
        sc[s + PRICE_NUM] *= k;
        sc[s + PRICE_DEN] *= k;
      }
      sc[s + PRICE_T] = ts;
    } else weight = w * Math.pow(2, -(t - ts) / half);
    this.bands.add(slot, priceBandOf(price, this.config.priceBandEdges), weight);
    sc[s + PRICE_NUM] += weight * price;
    sc[s + PRICE_DEN] += weight;
    this.flags[slot] |= PRICED;
  }
}

/**
 * Category and price per item slot, from the catalog or the item's latest event. Bound: one
 * entry per item slot (the items' EntityIndex cap and TTL).
 */
export class ItemStates {
  private categories: (string | undefined)[] = [];
  /** NaN: no price known. */
  private prices = new Float64Array(0);

  reset(slot: number): void {
    this.prices = growF64(this.prices, slot + 1);
    this.prices[slot] = NaN;
    this.categories[slot] = undefined;
  }

  learn(slot: number, category: string | undefined, price: number | undefined): void {
    if (category !== undefined) this.categories[slot] = category;
    if (price !== undefined) this.prices[slot] = price;
  }

  category(slot: number): string | undefined {
    return this.categories[slot];
  }

  price(slot: number): number | undefined {
    const p = this.prices[slot];
    return p === p ? p : undefined;
  }
}
