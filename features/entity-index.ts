import { growF64, growU8 } from '../models/core/arrays.js';

/**
 * The ids of one entity kind (users, items or categories) the feature store holds, each mapped
 * to a small integer slot that the window families and per-entity state are indexed by.
 *
 * Bound: at most `cap` ids. A new id beyond it evicts one that was not touched since the clock
 * hand last passed it (CLOCK, the usual approximation of least recently used), so a producer
 * inventing ids recycles slots instead of growing memory; `sweep` drops ids idle for longer
 * than the event-time TTL. Either way `onEvict` lets the owner clear the slot's state first.
 */
export class EntityIndex {
  private readonly slots = new Map<string, number>();
  private ids: (string | undefined)[] = [];
  private lastTs = new Float64Array(0);
  private ref = new Uint8Array(0);
  private readonly free: number[] = [];
  private hand = 0;
  /** Ids dropped to stay within the cap (not by the TTL). */
  evicted = 0;

  constructor(
    readonly cap: number,
    private readonly onEvict: (slot: number, id: string) => void,
  ) {
    if (!(cap >= 1)) throw new RangeError(`entity cap must be at least 1, got ${cap}`);
  }

  get size(): number {
    return this.slots.size;
  }

  slotOf(id: string): number | undefined {
    return this.slots.get(id);
  }

  idOf(slot: number): string | undefined {
    return this.ids[slot];
  }

  /** Event time this id was last touched at (−Infinity for an id only ever looked up). */
  lastSeen(slot: number): number {
    return this.lastTs[slot];
  }

  /** The id's slot, created (evicting another when at the cap) if new; `ts` renews its TTL. */
  touch(id: string, ts: number): number {
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = this.free.pop() ?? (this.slots.size >= this.cap ? this.evictOne() : this.ids.length);
      // doubling, then by a quarter (models/core/arrays.ts): at most 25 % unused tail
      this.lastTs = growF64(this.lastTs, slot + 1);
      this.ref = growU8(this.ref, slot + 1);
      this.slots.set(id, slot);
      this.ids[slot] = id;
      this.lastTs[slot] = ts;
    } else if (ts > this.lastTs[slot]) this.lastTs[slot] = ts;
    this.ref[slot] = 1;
    return slot;
  }

  /** Forgets the id (erasure); the caller clears its slot's state. */
  remove(id: string): number | undefined {
    const slot = this.slots.get(id);
    if (slot === undefined) return undefined;
    this.release(slot, id);
    return slot;
  }

  /** Drops every id last touched before `cutoff` (event time), clearing its state first. */
  sweep(cutoff: number): number {
    let n = 0;
    for (const [id, slot] of this.slots) {
      if (this.lastTs[slot] >= cutoff) continue;
      this.onEvict(slot, id);
      this.release(slot, id);
      n++;
    }
    return n;
  }

  forEach(fn: (id: string, slot: number) => void): void {
    for (const [id, slot] of this.slots) fn(id, slot);
  }

  private evictOne(): number {
    const n = this.ids.length;
    for (;;) {
      const slot = this.hand;
      this.hand = (this.hand + 1) % n;
      const id = this.ids[slot];
      if (id === undefined) continue;
      if (this.ref[slot] === 1) {
        this.ref[slot] = 0;
        continue;
      }
      this.onEvict(slot, id);
      this.slots.delete(id);
      this.ids[slot] = undefined;
      this.evicted++;
      return slot;
    }
  }

  private release(slot: number, id: string): void {
    this.slots.delete(id);
    this.ids[slot] = undefined;
    this.ref[slot] = 0;
    this.free.push(slot);
  }
}
