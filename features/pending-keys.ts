import type { FeatureEntity } from './types.js';

/** The event times a touched key saw since its values were last built. */
export interface Span {
  min: number;
  max: number;
}

/**
 * Keys touched since the last `FeatureStore.takeChanged`, with the span of their events' times,
 * so each changed window is built once however many batches touched it. Bound: the keys of one
 * sink interval (cleared by every takeChanged), or of one batch in replay's emitRows=false mode,
 * where nothing is recorded.
 */
export class PendingKeys {
  readonly users = new Map<string, Span>();
  readonly items = new Map<string, Span>();
  readonly categories = new Map<string, Span>();
  /** The oldest event time pending: when its window would close, the store reads early. */
  from = Infinity;

  /** Records one event's keys; `category` when the item has one. */
  touch(userId: string, itemId: string, category: string | undefined, ts: number): void {
    touch(this.users, userId, ts);
    touch(this.items, itemId, ts);
    if (category !== undefined) touch(this.categories, category, ts);
    if (ts < this.from) this.from = ts;
  }

  /** Keys of every entity kind. */
  get size(): number {
    return this.users.size + this.items.size + this.categories.size;
  }

  of(entity: FeatureEntity): Map<string, Span> {
    return entity === 'user' ? this.users : entity === 'item' ? this.items : this.categories;
  }

  clear(): void {
    this.users.clear();
    this.items.clear();
    this.categories.clear();
    this.from = Infinity;
  }
}

function touch(keys: Map<string, Span>, key: string, ts: number): void {
  const span = keys.get(key);
  if (span === undefined) keys.set(key, { min: ts, max: ts });
  else if (ts < span.min) span.min = ts;
  else if (ts > span.max) span.max = ts;
}
