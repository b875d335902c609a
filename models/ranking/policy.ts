import { ownValue } from '../core/own.js';
import { DEFAULT_MAX_ITEMS, LruMap } from '../core/lru-map.js';
import type { ItemEvent, ScoredItem } from '../event.js';

/** Serving rules applied to every list after the model ranked it (config `ranking`). */
export interface ServingPolicyConfig {
  /** The model is asked for topK × overfetch items, so filters leave enough to serve. */
  readonly overfetch: number;
  /** Drop items whose latest catalog event says `in_stock: false`. */
  readonly excludeOutOfStock: boolean;
  /** Score multipliers by category and by item id (1: none, 0: never serve). */
  readonly boosts: {
    readonly categories: Readonly<Record<string, number>>;
    readonly items: Readonly<Record<string, number>>;
  };
  /** At most this many items of one category per list (0: no cap). */
  readonly maxPerCategory: number;
  /** Maximal marginal relevance trade-off: 1 = relevance only (off); lower = more diverse. */
  readonly mmrLambda: number;
}

export const DEFAULT_POLICY: ServingPolicyConfig = {
  overfetch: 2,
  excludeOutOfStock: true,
  boosts: { categories: {}, items: {} },
  maxPerCategory: 0,
  mmrLambda: 1,
};

/**
 * What the serving policy knows about the catalogue: stock and categories, from catalog events
 * (the `items` topic) only. A click event's category describes that event, never what other
 * shoppers are shown, so no click can move a rival's item into a category boosted to 0.
 * Unknown means in stock and uncategorised. Bounded: the least recently updated items beyond
 * `maxItems` are forgotten (they then count as unknown).
 */
export class CatalogState {
  private readonly outOfStock: LruMap<string, true>;
  private readonly category: LruMap<string, string>;

  constructor(maxItems = DEFAULT_MAX_ITEMS) {
    this.outOfStock = new LruMap(maxItems);
    this.category = new LruMap(maxItems);
  }

  observeItem(item: ItemEvent): void {
    if (item.inStock === false) this.outOfStock.set(item.itemId, true);
    else if (item.inStock === true) this.outOfStock.delete(item.itemId);
    if (item.category !== undefined) this.category.set(item.itemId, item.category);
  }

  inStock(itemId: string): boolean {
    return this.outOfStock.size === 0 || !this.outOfStock.has(itemId);
  }

  categoryOf(itemId: string): string | undefined {
    return this.category.peek(itemId);
  }

  get size(): number {
    return this.category.size + this.outOfStock.size;
  }
}

/** A boost > 1 must move an item up even when the model's score is negative (a logit). */
const boosted = (score: number, b: number): number => (score >= 0 ? score * b : score / b);

/**
 * Drops out-of-stock and repeated items and applies the configured boosts (a boost of 0 drops
 * the item). Lists nothing applies to come back unchanged, scores included, so consumers of the
 * raw scores (push thresholds) see the model's numbers.
 */
export function filterAndBoost(
  items: readonly ScoredItem[],
  catalog: CatalogState,
  p: ServingPolicyConfig,
): readonly ScoredItem[] {
  const catBoosts = p.boosts.categories;
  const itemBoosts = p.boosts.items;
  const anyBoost = hasKeys(catBoosts) || hasKeys(itemBoosts);
  // Every refreshed list comes here and most need nothing: answer those without a Set and a copy.
  if (!anyBoost && !needsFilter(items, catalog, p)) return items;
  let changed = false;
  let reorder = false;
  const seen = new Set<string>();
  const out: ScoredItem[] = [];
  for (const it of items) {
    if (seen.has(it.itemId) || (p.excludeOutOfStock && !catalog.inStock(it.itemId))) {
      changed = true;
      continue;
    }
    seen.add(it.itemId);
    if (!anyBoost) {
      out.push(it);
      continue;
    }
    const cat = catalog.categoryOf(it.itemId);
    const b =
      (ownValue(itemBoosts, it.itemId) ?? 1) *
      (cat !== undefined ? (ownValue(catBoosts, cat) ?? 1) : 1);
    if (b === 1) out.push(it);
    else if (b > 0) {
      out.push({ ...it, score: boosted(it.score, b) });
      reorder = true;
    } else changed = true;
  }
  if (reorder) {
    // stable: equal scores keep the model's order
    const idx = new Map(out.map((it, i) => [it, i]));
    out.sort((a, b) => b.score - a.score || (idx.get(a) as number) - (idx.get(b) as number));
  }
  return changed || reorder ? out : items;
}

function hasKeys(o: Readonly<Record<string, number>>): boolean {
  for (const k in o) if (Object.hasOwn(o, k)) return true;
  return false;
}

/** needsFilter's per-item fingerprints (one list at a time: single-threaded, synchronous). */
const PRINTS = new Int32Array(64);

/** A cheap fingerprint of an id: its length and last four characters. Equal ids, equal prints. */
function print(id: string): number {
  const n = id.length;
  let h = n;
  for (let i = Math.max(0, n - 4); i < n; i++) h = Math.imul(h, 31) + id.charCodeAt(i);
  return h | 0;
}

/**
 * Whether a list holds a repeat or (when excluded) an out-of-stock item. A Set per list (and its
 * growth) cost more than the check; pairs of a short list are compared by fingerprint first,
 * the strings only when those match.
 */
function needsFilter(
  items: readonly ScoredItem[],
  catalog: CatalogState,
  p: ServingPolicyConfig,
): boolean {
  const n = items.length;
  if (n > PRINTS.length) return true;
  for (let i = 0; i < n; i++) {
    const id = (items[i] as ScoredItem).itemId;
    if (p.excludeOutOfStock && !catalog.inStock(id)) return true;
    const h = (PRINTS[i] = print(id));
    for (let j = 0; j < i; j++)
      if (PRINTS[j] === h && (items[j] as ScoredItem).itemId === id) return true;
  }
  return false;
}

/** Cosine similarity of two factor vectors (0 when either is missing or zero). */
function cosine(a: Float32Array | undefined, b: Float32Array | undefined): number {
  if (!a || !b || a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let d = 0; d < a.length; d++) {
    dot += a[d] * b[d];
    na += a[d] * a[d];
    nb += b[d] * b[d];
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/**
 * Picks `k` of the ranked items: at most `maxPerCategory` per category, and with mmrLambda < 1
 * by maximal marginal relevance, greedily the item maximising
 * λ·relevance − (1 − λ)·max cosine(item, already picked), relevance being the score min-max
 * scaled over the list. Scores of the result are made strictly decreasing in the new order, so
 * a ZSET read with ZREVRANGE returns exactly this order.
 */
export function diversify(
  items: readonly ScoredItem[],
  k: number,
  catalog: CatalogState,
  p: ServingPolicyConfig,
  vectorOf?: (itemId: string) => Float32Array | undefined,
): readonly ScoredItem[] {
  const cap = p.maxPerCategory;
  const lambda = p.mmrLambda;
  if (cap <= 0 && !(lambda < 1)) return items.length > k ? items.slice(0, k) : items;
  const perCat = new Map<string, number>();
  const allowed = (it: ScoredItem): boolean => {
    if (cap <= 0) return true;
    const c = catalog.categoryOf(it.itemId);
    return c === undefined || (perCat.get(c) ?? 0) < cap;
  };
  const take = (it: ScoredItem): void => {
    const c = catalog.categoryOf(it.itemId);
    if (c !== undefined) perCat.set(c, (perCat.get(c) ?? 0) + 1);
  };
  const picked: ScoredItem[] = [];
  if (!(lambda < 1) || vectorOf === undefined) {
    for (const it of items) {
      if (picked.length === k) break;
      if (!allowed(it)) continue;
      take(it);
      picked.push(it);
    }
    return picked;
  }
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const it of items) {
    if (it.score < lo) lo = it.score;
    if (it.score > hi) hi = it.score;
  }
  const span = hi > lo ? hi - lo : 1;
  const vecs = items.map((it) => vectorOf(it.itemId));
  const maxSim = new Float64Array(items.length);
  const used = new Uint8Array(items.length);
  while (picked.length < k) {
    let best = -1;
    let bestV = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < items.length; i++) {
      if (used[i] || !allowed(items[i])) continue;
      const v = lambda * ((items[i].score - lo) / span) - (1 - lambda) * maxSim[i];
      if (v > bestV) {
        bestV = v;
        best = i;
      }
    }
    if (best < 0) break;
    used[best] = 1;
    take(items[best]);
    picked.push(items[best]);
    for (let i = 0; i < items.length; i++) {
      if (used[i]) continue;
      const s = cosine(vecs[i], vecs[best]);
      if (s > maxSim[i]) maxSim[i] = s;
    }
  }
  return strictlyDecreasing(picked);
}

/** Lowers any score that is not below its predecessor's, keeping the given order in a ZSET. */
function strictlyDecreasing(items: ScoredItem[]): ScoredItem[] {
  for (let t = 1; t < items.length; t++) {
    const prev = items[t - 1].score;
    if (items[t].score < prev) continue;
    const step = Math.max(Math.abs(prev) * 1e-6, 1e-9);
    items[t] = { ...items[t], score: prev - step };
  }
  return items;
}
