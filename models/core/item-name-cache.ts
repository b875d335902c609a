import type { AsciiItemNames } from './item-deltas.js';
import type { IdMap } from './id-map.js';

const EMPTY = -1;

/**
 * Resolves the item ids of another instance's delta record to this model's item numbers from
 * their bytes. Interning them as strings cost a fresh string and a `Map` lookup per id per
 * record, the largest part of applying a record (docs/scaling.md, capacity model), although
 * nearly every id has been seen before. Here an id's bytes are hashed (FNV-1a) into an
 * open-addressing table of item numbers and a hit is confirmed against the IdMap's name, char
 * by char; only ids not seen yet become strings and go through `intern`.
 *
 * Bound: one entry per item number the IdMap holds (limits.items), two Int32 per slot at a load
 * of at most 1/2.
 */
export class ItemNameCache {
  private hashes = new Int32Array(1024);
  private ids = new Int32Array(1024).fill(EMPTY);
  private size = 0;

  constructor(private readonly items: IdMap) {}

  /** The model's item number of each id of the record (-1 where the item space is full). */
  resolve(names: AsciiItemNames, decode: (k: number) => string): Int32Array {
    const { bytes, lengths } = names;
    const out = new Int32Array(lengths.length);
    let at = names.from;
    for (let k = 0; k < lengths.length; k++) {
      const len = lengths[k] as number;
      let h = 0x811c9dc5;
      for (let x = at; x < at + len; x++) h = Math.imul(h ^ (bytes[x] as number), 0x01000193);
      let id = this.find(h, bytes, at, len);
      if (id === EMPTY) {
        id = this.items.intern(decode(k));
        if (id >= 0) this.insert(h, id);
      }
      out[k] = id;
      at += len;
    }
    return out;
  }

  private find(h: number, bytes: Uint8Array, at: number, len: number): number {
    const mask = this.ids.length - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const id = this.ids[s] as number;
      if (id === EMPTY) return EMPTY;
      if (this.hashes[s] !== h) continue;
      const name = this.items.name(id);
      if (name.length !== len) continue;
      let same = true;
      for (let c = 0; c < len; c++)
        if (name.charCodeAt(c) !== bytes[at + c]) {
          same = false;
          break;
        }
      if (same) return id;
    }
  }

  private insert(h: number, id: number): void {
    if (2 * (this.size + 1) > this.ids.length) this.grow();
    const mask = this.ids.length - 1;
    let s = h & mask;
    while (this.ids[s] !== EMPTY) s = (s + 1) & mask;
    this.hashes[s] = h;
    this.ids[s] = id;
    this.size++;
  }

  private grow(): void {
    const hashes = this.hashes;
    const ids = this.ids;
    this.hashes = new Int32Array(2 * hashes.length);
    this.ids = new Int32Array(2 * ids.length).fill(EMPTY);
    this.size = 0;
    for (let s = 0; s < ids.length; s++)
      if (ids[s] !== EMPTY) this.insert(hashes[s] as number, ids[s] as number);
  }
}
