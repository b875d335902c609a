import { growF64, growI32, growU8 } from './arrays.js';
import type { SnapshotReader, SnapshotWriter } from './snapshot.js';

/**
 * Each user's last `size` distinct items, newest first, with event time and type code.
 * A repeated item moves to the front instead of taking a second slot, so the window holds
 * `size` different items.
 *
 * User u's window is `start(u)` .. `start(u) + len[u]` of `items`, `ts` and `types`: a region
 * that starts at 2 slots and doubles up to `size` as the user's window fills (issue 12: every
 * user had `size` slots, 20 by default, 260 B, from their first event, and most users of a
 * stream of new ids have one or two). A region given up for a larger one is reused by the next
 * user that needs one of its size (a free list per size). Bound: at most `size` slots per user
 * in use, plus freed regions, which are at most the smaller sizes' sum per user that grew (less
 * than `size`): under 2 * `size` slots per user.
 */
export class UserHistory {
  items = new Int32Array(0);
  ts = new Float64Array(0);
  types = new Uint8Array(0);
  len = new Uint8Array(0);
  /** First slot of each user's region (-1: none yet) and its capacity. */
  private off = new Int32Array(0);
  private cap = new Uint8Array(0);
  /** Slots handed out so far (regions are never returned to the end). */
  private top = 0;
  /** Freed regions by capacity: their first slots. */
  private readonly free = new Map<number, number[]>();

  constructor(readonly size: number) {
    if (!(size >= 1 && size <= 255))
      throw new RangeError(`history size must be 1..255, got ${size}`);
  }

  ensureUsers(n: number): void {
    this.off = growI32(this.off, n, -1);
    this.cap = growU8(this.cap, n);
    this.len = growU8(this.len, n);
  }

  /** First slot of u's window (valid while len[u] > 0). */
  start(u: number): number {
    return this.off[u] as number;
  }

  /** Empties u's window (its row now belongs to a different user). */
  forget(u: number): void {
    if (u < this.len.length) this.len[u] = 0;
  }

  /** Position of `item` in u's window, or -1. */
  indexOf(u: number, item: number): number {
    const n = this.len[u];
    if (!n) return -1;
    const base = this.off[u] as number;
    const items = this.items;
    for (let p = 0; p < n; p++) if (items[base + p] === item) return p;
    return -1;
  }

  /** A region of `c` slots: a freed one, or new ones at the end. */
  private alloc(c: number): number {
    const list = this.free.get(c);
    if (list && list.length > 0) return list.pop() as number;
    const at = this.top;
    this.top += c;
    this.items = growI32(this.items, this.top);
    this.ts = growF64(this.ts, this.top);
    this.types = growU8(this.types, this.top);
    return at;
  }

  /** Gives u a region of at least `need` slots, keeping its window. */
  private reserve(u: number, need: number): void {
    const c = this.cap[u] as number;
    if (need <= c) return;
    let next = Math.max(2, c);
    while (next < need) next *= 2;
    next = Math.min(next, this.size);
    const at = this.alloc(next);
    const old = this.off[u] as number;
    const n = this.len[u] as number;
    if (c > 0) {
      this.items.copyWithin(at, old, old + n);
      this.ts.copyWithin(at, old, old + n);
      this.types.copyWithin(at, old, old + n);
      let list = this.free.get(c);
      if (!list) this.free.set(c, (list = []));
      list.push(old);
    }
    this.off[u] = at;
    this.cap[u] = next;
  }

  /** Puts `item` at the front (u's rows must exist). */
  push(u: number, item: number, ts: number, type: number): void {
    let end = this.indexOf(u, item);
    if (end < 0) {
      end = this.len[u] as number;
      if (end === this.size) end--;
      else {
        this.reserve(u, end + 1);
        this.len[u] = end + 1;
      }
    }
    const base = this.off[u] as number;
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

  /** Written as `size` slots per user (the layout snapshots have always had; zeros past len). */
  save(w: SnapshotWriter, users: number): void {
    const s = this.size;
    const items = new Int32Array(users * s);
    const ts = new Float64Array(users * s);
    const types = new Uint8Array(users * s);
    for (let u = 0; u < users && u < this.len.length; u++) {
      const n = this.len[u] as number;
      if (n === 0) continue;
      const o = this.off[u] as number;
      items.set(this.items.subarray(o, o + n), u * s);
      ts.set(this.ts.subarray(o, o + n), u * s);
      types.set(this.types.subarray(o, o + n), u * s);
    }
    w.adopt('items', items);
    w.adopt('ts', ts);
    w.adopt('types', types);
    w.array('len', this.len, users);
  }

  load(r: SnapshotReader, users: number): void {
    const s = this.size;
    const items = r.i32('items');
    const ts = r.f64('ts');
    const types = r.u8('types');
    const len = r.u8('len');
    this.items = new Int32Array(0);
    this.ts = new Float64Array(0);
    this.types = new Uint8Array(0);
    this.len = new Uint8Array(0);
    this.off = new Int32Array(0);
    this.cap = new Uint8Array(0);
    this.top = 0;
    this.free.clear();
    this.ensureUsers(users);
    for (let u = 0; u < users && u < len.length; u++) {
      const n = Math.min(len[u] as number, s);
      if (n === 0) continue;
      this.reserve(u, n);
      const o = this.off[u] as number;
      this.items.set(items.subarray(u * s, u * s + n), o);
      this.ts.set(ts.subarray(u * s, u * s + n), o);
      this.types.set(types.subarray(u * s, u * s + n), o);
      this.len[u] = n;
    }
  }
}
