import { growF64, growI32, growU8 } from './arrays.js';
import type { SnapshotReader, SnapshotWriter } from './snapshot.js';

/**
 * Each user's last `size` distinct items, newest first, with event time and type code.
 * A repeated item moves to the front instead of taking a second slot, so the window holds
 * `size` different items.
 */
export class UserHistory {
  items = new Int32Array(0);
  ts = new Float64Array(0);
  types = new Uint8Array(0);
  len = new Uint8Array(0);

  constructor(readonly size: number) {
    if (!(size >= 1 && size <= 255))
      throw new RangeError(`history size must be 1..255, got ${size}`);
  }

  ensureUsers(n: number): void {
    this.items = growI32(this.items, n * this.size);
    this.ts = growF64(this.ts, n * this.size);
    this.types = growU8(this.types, n * this.size);
    this.len = growU8(this.len, n);
  }

  /** Empties u's window (its row now belongs to a different user). */
  forget(u: number): void {
    if (u < this.len.length) this.len[u] = 0;
  }

  /** Position of `item` in u's window, or -1. */
  indexOf(u: number, item: number): number {
    const base = u * this.size;
    const n = this.len[u];
    const items = this.items;
    for (let p = 0; p < n; p++) if (items[base + p] === item) return p;
    return -1;
  }

  /** Puts `item` at the front (u's rows must exist). */
  push(u: number, item: number, ts: number, type: number): void {
    const base = u * this.size;
    let end = this.indexOf(u, item);
    if (end < 0) {
      end = this.len[u];
      if (end === this.size) end--;
      else this.len[u] = end + 1;
    }
    const items = this.items;
    const tss = this.ts;
    const types = this.types;
    for (let p = base + end; p > base; p--) {
      items[p] = items[p - 1];
      tss[p] = tss[p - 1];
      types[p] = types[p - 1];
    }
    items[base] = item;
    tss[base] = ts;
    types[base] = type;
  }

  save(w: SnapshotWriter, users: number): void {
    w.array('items', this.items, users * this.size);
    w.array('ts', this.ts, users * this.size);
    w.array('types', this.types, users * this.size);
    w.array('len', this.len, users);
  }

  load(r: SnapshotReader, users: number): void {
    this.items = new Int32Array(0);
    this.ts = new Float64Array(0);
    this.types = new Uint8Array(0);
    this.len = new Uint8Array(0);
    this.ensureUsers(users);
    this.items.set(r.i32('items'));
    this.ts.set(r.f64('ts'));
    this.types.set(r.u8('types'));
    this.len.set(r.u8('len'));
  }
}
