import type { IdMap } from './core/id-map.js';
import { ItemDeltaCollector, type ItemDeltaRecord } from './core/item-deltas.js';
import { ItemNameCache } from './core/item-name-cache.js';
import type { HybridRecommender } from './hybrid.js';
import type { ClickEvent } from './event.js';
import type { Recommender } from './recommender.js';

/**
 * A model whose item-side state can be kept whole on every instance by exchanging deltas
 * instead of every instance learning every event (docs/scaling.md, "Item state replica").
 */
export interface ItemStateModel extends Recommender {
  /**
   * From now on, learn() records its item-side changes (and item factors start seeded by id).
   * `sources`: how many instances at most learn events at once (the input's partitions); other
   * instances' factor steps are averaged over them (MfRecommender.remoteStepWeight).
   */
  recordItemDeltas(sources?: number): void;
  /** The changes recorded since the last call, split by item partition; none when nothing was learned. */
  takeItemDeltas(partitions: number): ItemDeltaRecord[];
  /** Another instance's changes: applied to the item side only, never recorded again. */
  applyItemDeltas(record: ItemDeltaRecord): void;
  /**
   * Learns the user-keyed side of an event only (a partition that moved here is restored by
   * replaying it: its item side is in the model already, through the previous owner's deltas).
   */
  learnUser(event: ClickEvent): void;
}

export function isItemStateModel(r: Recommender): r is ItemStateModel {
  const m = r as Partial<ItemStateModel>;
  return (
    typeof m.recordItemDeltas === 'function' &&
    typeof m.takeItemDeltas === 'function' &&
    typeof m.applyItemDeltas === 'function' &&
    typeof m.learnUser === 'function'
  );
}

export function recordHybridDeltas(h: HybridRecommender, sources: number): void {
  if (h.mf) h.mf.remoteStepWeight = 1 / Math.max(1, Math.floor(sources));
  if (h.ctx.deltas) return;
  h.ctx.deltas = new ItemDeltaCollector(h.mf?.o.dim ?? 0);
  if (h.mf) h.mf.seedItemsById = true;
}

export function learnUserSide(h: HybridRecommender, event: ClickEvent): void {
  h.ctx.userOnly = true;
  try {
    h.learn(event);
  } finally {
    h.ctx.userOnly = false;
  }
}

export function takeHybridDeltas(h: HybridRecommender, partitions: number): ItemDeltaRecord[] {
  const d = h.ctx.deltas;
  if (!d || d.empty) return [];
  const items = h.ctx.items;
  return d.take((i) => items.name(i), partitions);
}

/** Per item IdMap (a restored snapshot brings a new one): its name cache. */
const nameCaches = new WeakMap<IdMap, ItemNameCache>();

export function applyHybridDeltas(h: HybridRecommender, r: ItemDeltaRecord): void {
  const items = h.ctx.items;
  let ids: Int32Array;
  if (r.asciiNames) {
    let cache = nameCaches.get(items);
    if (!cache) nameCaches.set(items, (cache = new ItemNameCache(items)));
    ids = cache.resolve(r.asciiNames, (k) => r.items[k] as string);
  } else {
    ids = new Int32Array(r.items.length);
    for (let k = 0; k < ids.length; k++) ids[k] = items.intern(r.items[k] as string);
  }
  h.knn.applyItemDeltas(ids, r);
  h.content?.touchItems(ids);
  h.mf?.applyItemDeltas(ids, r);
  h.trending?.applyItemDeltas(ids, r);
  h.popular?.applyItemDeltas(ids, r);
  h.intent?.applyItemDeltas(ids, r);
}
