import { growU8 } from './arrays.js';
import type { AsciiItemNames } from './item-deltas.js';
import type { IdMap } from './id-map.js';

/** Int32 fields per slot: hash, item number + 1 (0: empty), offset of the id's bytes, length. */
const F = 4;

/**
 * Resolves the item ids of another instance's delta record to this model's item numbers from
 * their bytes. Interning them as strings cost a fresh string and a `Map` lookup per id per
 * record, the largest part of applying a record (docs/scaling.md, capacity model), although
 * nearly every id has been seen before. Here an id's bytes are hashed (FNV-1a) into an
 * open-addressing table and a hit is confirmed against a copy of the id's bytes kept in one
 * arena; only ids not seen yet become strings and go through `intern`.
 *
 * The copy, rather than the IdMap's string: with six instances on two cores, reading each hit's
 * string (an object anywhere in the heap) was a cache miss per id and the largest single item
 * of what an instance spends on other instances' records (BENCHMARKS.md, issue 14 runs H). A
 * number that stops naming its id (recycle, erase, snapshot load: IdMap.renames) empties the
 * cache, so a copy never vouches for a number that now names another id.
 *
 * Bound: one entry per item number the IdMap holds (limits.items): four Int32 per slot at a
 * load of at most 1/2, plus the id's bytes.
 */
export class ItemNameCache {
  private slots = new Int32Array(1024 * F);
  private arena = new Uint8Array(16 * 1024);
  private used = 0;
  private size = 0;
  private renames: number;

  constructor(private readonly items: IdMap) {
    this.renames = items.renames;
  }

  /** The model's item number of each id of the record (-1 where the item space is full). */
  resolve(names: AsciiItemNames, decode: (k: number) => string): Int32Array {
    const { bytes, lengths } = names;
    const out = new Int32Array(lengths.length);
    if (this.items.renames !== this.renames) this.clear();
    let at = names.from;
    for (let k = 0; k < lengths.length; k++) {
      const len = lengths[k] as number;
      let h = 0x811c9dc5;
      for (let x = at; x < at + len; x++) h = Math.imul(h ^ (bytes[x] as number), 0x01000193);
      let id = this.find(h, bytes, at, len);
      if (id < 0) {
        id = this.items.intern(decode(k));
        // interning may have recycled a number an entry vouches for
        if (this.items.renames !== this.renames) this.clear();
        if (id >= 0) this.insert(h, id, bytes, at, len);
      }
      out[k] = id;
      at += len;
    }
    return out;
  }

  private find(h: number, bytes: Uint8Array, at: number, len: number): number {
    const slots = this.slots;
    const arena = this.arena;
    const mask = slots.length / F - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = s * F;
      const id1 = slots[e + 1] as number;
      if (id1 === 0) return -1;
      if (slots[e] !== h || slots[e + 3] !== len) continue;
      const off = slots[e + 2] as number;
      let c = 0;
      while (c < len && arena[off + c] === bytes[at + c]) c++;
      if (c === len) return id1 - 1;
    }
  }

  private insert(h: number, id: number, bytes: Uint8Array, at: number, len: number): void {
    if (2 * (this.size + 1) > this.slots.length / F) this.grow();
    this.arena = growU8(this.arena, this.used + len);
    this.arena.set(bytes.subarray(at, at + len), this.used);
    this.place(h, id + 1, this.used, len);
    this.used += len;
    this.size++;
  }

  private place(h: number, id1: number, off: number, len: number): void {
    const slots = this.slots;
    const mask = slots.length / F - 1;
    let s = h & mask;
    while (slots[s * F + 1] !== 0) s = (s + 1) & mask;
    slots[s * F] = h;
    slots[s * F + 1] = id1;
    slots[s * F + 2] = off;
    slots[s * F + 3] = len;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(2 * old.length);
    for (let e = 0; e < old.length; e += F)
      if (old[e + 1] !== 0)
        this.place(
          old[e] as number,
          old[e + 1] as number,
          old[e + 2] as number,
          old[e + 3] as number,
        );
  }

  private clear(): void {
    this.slots.fill(0);
    this.used = 0;
    this.size = 0;
    this.renames = this.items.renames;
  }
}
