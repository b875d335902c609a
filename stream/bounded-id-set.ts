/**
 * Remembers the last `capacity` ids (FIFO eviction) in O(1) per operation, so event-id dedupe
 * has bounded memory. Older duplicates fall through to the sinks, which are idempotent anyway.
 */
export class BoundedIdSet {
  private readonly seen = new Set<string>();
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be >= 1');
    this.ring = new Array<string | undefined>(capacity);
  }

  /** True when the id was new (and is now remembered). */
  add(id: string): boolean {
    if (this.seen.has(id)) return false;
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.seen.delete(evicted);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.capacity;
    this.seen.add(id);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}
