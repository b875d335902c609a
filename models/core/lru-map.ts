/** Default caps of per-id state kept outside the model (config `limits`, docs/operations.md). */
export const DEFAULT_MAX_USERS = 1_000_000;
export const DEFAULT_MAX_ITEMS = 1_000_000;

/**
 * A Map with a size cap that forgets the least recently written (or `get`-touched) key first.
 * Every per-id structure whose ids come from input is one of these (or has an event-time TTL):
 * a producer inventing ids can then cost at most `capacity` entries, never unbounded memory.
 * Built on Map's insertion order, so touching is a delete + set and eviction takes the first key.
 */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  /** Entries forgotten because the cap was reached (for metrics and tests). */
  evicted = 0;

  constructor(
    readonly capacity: number,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {
    if (!(capacity >= 1)) throw new RangeError(`LruMap capacity must be >= 1, got ${capacity}`);
  }

  get size(): number {
    return this.map.size;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** The value, and the key becomes the most recently used. */
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  /** The value without changing the order (reads on hot paths that should not keep a key alive). */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): this {
    if (this.map.has(key)) this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value as K;
      const v = this.map.get(oldest) as V;
      this.map.delete(oldest);
      this.evicted++;
      this.onEvict?.(oldest, v);
    }
    return this;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.map.entries();
  }
}
