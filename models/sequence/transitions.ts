import { growF32, growI32 } from '../core/arrays.js';
import type { SnapshotReader, SnapshotWriter } from '../core/snapshot.js';

/**
 * Directed item → next-item counts, learned online from every event: the Markov prior of the
 * sequence model (sequence.ts adds it to the GRU's logits, as GRU4Rec variants with a Markov
 * or "sequential rules" term do). Unlike co-visitation it keeps the order: A → B says nothing
 * about B → A. A pair (x, y) where x came `d` steps before y in the same session adds 1/d.
 *
 * Each row keeps at most `width` successors (Space-Saving: a full row replaces its lightest
 * entry and the newcomer inherits that count, so a heavy successor is never lost to a stream
 * of one-off ones). Bound: rows follow the item id space (limits.items), width × 8 + 8 bytes
 * per item (264 at width 32).
 */
export class Transitions {
  succ = new Int32Array(0);
  cnt = new Float32Array(0);
  len = new Int32Array(0);
  /** Mass added to each row (its successors' counts sum to this, or more after replacements). */
  total = new Float32Array(0);
  private rows = 0;

  constructor(readonly width: number) {
    if (!(Number.isInteger(width) && width >= 1))
      throw new RangeError(`transitions: width must be an integer >= 1, got ${width}`);
  }

  get size(): number {
    return this.rows;
  }

  ensure(items: number): void {
    if (items <= this.rows) return;
    this.succ = growI32(this.succ, items * this.width);
    this.cnt = growF32(this.cnt, items * this.width);
    this.len = growI32(this.len, items);
    this.total = growF32(this.total, items);
    this.rows = items;
  }

  /** Adds w to the count of a → b. */
  add(a: number, b: number, w: number): void {
    this.ensure(Math.max(a, b) + 1);
    const width = this.width;
    const o = a * width;
    const n = this.len[a];
    const succ = this.succ;
    const cnt = this.cnt;
    this.total[a] += w;
    let min = 0;
    for (let k = 0; k < n; k++) {
      if (succ[o + k] === b) {
        cnt[o + k] += w;
        return;
      }
      if (cnt[o + k] < cnt[o + min]) min = k;
    }
    if (n < width) {
      succ[o + n] = b;
      cnt[o + n] = w;
      this.len[a] = n + 1;
      return;
    }
    succ[o + min] = b;
    cnt[o + min] += w;
  }

  /** The count of a → b (0 when not kept). */
  count(a: number, b: number): number {
    if (a < 0 || a >= this.rows) return 0;
    const o = a * this.width;
    for (let k = 0; k < this.len[a]; k++) if (this.succ[o + k] === b) return this.cnt[o + k];
    return 0;
  }

  save(w: SnapshotWriter): void {
    w.array('succ', this.succ, this.rows * this.width);
    w.array('cnt', this.cnt, this.rows * this.width);
    w.array('len', this.len, this.rows);
    w.array('total', this.total, this.rows);
  }

  /** Restores what save() wrote; undefined: empty. */
  load(r: SnapshotReader | undefined): void {
    this.rows = 0;
    this.succ = new Int32Array(0);
    this.cnt = new Float32Array(0);
    this.len = new Int32Array(0);
    this.total = new Float32Array(0);
    if (r === undefined) return;
    const len = r.i32('len');
    this.ensure(len.length);
    this.len.set(len);
    this.total.set(r.f32('total'));
    this.succ.set(r.i32('succ'));
    this.cnt.set(r.f32('cnt'));
  }
}
