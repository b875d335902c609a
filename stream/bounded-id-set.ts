/**
 * Remembers the last `capacity` ids (FIFO eviction) in O(1) per operation, so event-id dedupe
 * has bounded memory. Older duplicates fall through to the sinks, which are idempotent anyway.
 */
export class BoundedIdSet {
  private readonly seen = new Set<string>();
  /**
   * The ids in arrival order, oldest at `next` once full. Bound: `capacity`. It grows as ids
   * come instead of reserving `capacity` slots up front (8 MB for the default 1,000,000, before
   * the first event; issue 12).
   */
  private ring: string[] = [];
  private next = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be >= 1');
  }

  /** True when the id was new (and is now remembered). */
  add(id: string): boolean {
    if (this.seen.has(id)) return false;
    if (this.ring.length < this.capacity) {
      this.ring.push(id);
      // once full, drop the growth headroom (up to half again) for good: copied to exact size
      if (this.ring.length === this.capacity) this.ring = this.ring.slice();
    } else {
      this.seen.delete(this.ring[this.next] as string);
      this.ring[this.next] = id;
      this.next = (this.next + 1) % this.capacity;
    }
    this.seen.add(id);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}
