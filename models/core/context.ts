import type { ScoredItem } from '../event.js';
import { IdMap } from './id-map.js';
import type { ItemDeltaCollector } from './item-deltas.js';
import type { SnapshotReader, SnapshotWriter } from './snapshot.js';
import { TopK } from './topk.js';

export interface ModelLimits {
  readonly users?: number;
  readonly items?: number;
  readonly tokens?: number;
}

/**
 * The string -> int id spaces. Components of a hybrid share one, so candidates from different
 * components are the same ints and an event is interned once.
 */
export class ModelContext {
  readonly users = new IdMap();
  readonly items = new IdMap();
  /**
   * When set, components record their item-side changes here as they learn, for other instances
   * to apply (the item state replica, docs/scaling.md); undefined: nothing is recorded.
   */
  deltas: ItemDeltaCollector | undefined = undefined;
  /**
   * While set, components learn only user-keyed state (histories, user factors, recent
   * categories): the item side of those events reaches this instance as another's deltas.
   */
  userOnly = false;
  private readonly tokenMaps: IdMap[] = [];
  private tokenLimit = Number.POSITIVE_INFINITY;

  /**
   * Bounds the id spaces (config `limits`): users recycle the least recently seen user's row
   * (each model resets it in its onRecycle hook), items and tokens refuse new ids once full
   * (models skip what they cannot number). Call before learning.
   */
  limit(limits: ModelLimits): void {
    if (limits.users !== undefined) this.users.setLimit(limits.users, 'recycle');
    if (limits.items !== undefined) this.items.setLimit(limits.items, 'refuse');
    if (limits.tokens !== undefined) {
      this.tokenLimit = limits.tokens;
      for (const m of this.tokenMaps) m.setLimit(limits.tokens, 'refuse');
    }
  }

  /** A component's own string space (categories, title words), bounded by `limits.tokens`. */
  tokenMap(map: IdMap): IdMap {
    this.tokenMaps.push(map);
    if (Number.isFinite(this.tokenLimit)) map.setLimit(this.tokenLimit, 'refuse');
    return map;
  }

  /**
   * Erases a user from every component sharing this context (their rows are reset by the
   * components' onRecycle hooks); false when the model never saw them.
   */
  forgetUser(userId: string): boolean {
    return this.users.erase(userId);
  }

  save(w: SnapshotWriter): void {
    w.set('users', this.users.toArray());
    w.set('items', this.items.toArray());
  }

  load(r: SnapshotReader): void {
    this.users.load(r.strings('users'));
    this.items.load(r.strings('items'));
  }
}

/** TopK plus output buffers, so ranking allocates only the returned ScoredItem objects. */
export class Ranker {
  readonly heap = new TopK(16);
  private ids = new Int32Array(16);
  private scores = new Float64Array(16);

  begin(k: number): TopK {
    if (k > this.ids.length) {
      this.ids = new Int32Array(k);
      this.scores = new Float64Array(k);
    }
    this.heap.reset(k);
    return this.heap;
  }

  /**
   * Offers a candidate, consulting the exclusion set only when it would enter the list: the
   * string lookup is the expensive part and most candidates never get that far.
   */
  offer(id: number, score: number, items: IdMap, exclude: ReadonlySet<string>): void {
    const heap = this.heap;
    if (heap.accepts(id, score) && (exclude.size === 0 || !exclude.has(items.name(id)))) {
      heap.push(id, score);
    }
  }

  finish(items: IdMap, reason: (item: number) => string, scale = 1): ScoredItem[] {
    const n = this.heap.drain(this.ids, this.scores);
    const out: ScoredItem[] = new Array<ScoredItem>(n);
    for (let j = 0; j < n; j++) {
      const id = this.ids[j];
      out[j] = { itemId: items.name(id), score: this.scores[j] * scale, reason: reason(id) };
    }
    return out;
  }
}

/** Builds reason strings once per (kind, item) so hot paths do not concatenate strings. */
export class ReasonCache {
  private readonly cache: (string | undefined)[] = [];

  constructor(private readonly prefix: string) {}

  get(item: number, items: IdMap): string {
    let s = this.cache[item];
    if (s === undefined) this.cache[item] = s = this.prefix + items.name(item);
    return s;
  }
}
