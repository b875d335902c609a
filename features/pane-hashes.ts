import { HashDistinct } from './hash-distinct.js';
import { grow, grownLength } from './pane-arrays.js';
import type { PaneSink } from './window-changelog-codec.js';

/** Distinct hashes kept exact without a HashDistinct; a pane with more moves them to one. */
const INLINE = 4;
/**
 * Of those, the ones in the pane's row; a pane with more (up to INLINE) keeps them all in a side
 * row of `ext` and the row's first slot holds its index. Two fit a user pane (a view, then one
 * more event) and most item panes, so the other two cost 8 bytes per pane only where used.
 */
const ROW_HASHES = 2;
const NONE = -1;
/** `n` of a pane whose distinct values live in `overflow`. */
const SPILLED = -1;

/**
 * The distinct values of PaneRows' panes (the 32-bit hashes of what a family counts distinct),
 * by pane row: 2 in the pane's row, the third and fourth in a 16-byte `ext` row, more in a
 * HashDistinct (`overflow`). The order of a pane's exact hashes is the order they came in, as a
 * changelog record carries them.
 * Bound: one row entry per pane row, one `ext` row per live pane with 3 or 4 distinct values
 * (reused through a free list), one HashDistinct per live pane with more; the arrays grow with
 * the pane rows and never shrink.
 */
export class PaneHashes {
  /** Exact distinct hashes held (0..inline; more than rowH: in `ext`), or SPILLED. */
  private n = new Int8Array(0);
  /** rowH hashes per pane, or (n > rowH) the pane's `ext` row index in its first slot. */
  private row = new Int32Array(0);
  /** `inline` hashes per row; a free row's first slot holds the next free row. */
  private ext = new Int32Array(0);
  private extFree = NONE;
  private extTop = 0;
  private readonly overflow = new Map<number, HashDistinct>();
  private readonly inline: number;
  private readonly rowH: number;

  constructor(
    private readonly precision: number,
    private readonly exactLimit: number,
  ) {
    this.inline = Math.max(0, Math.min(INLINE, exactLimit));
    this.rowH = Math.min(ROW_HASHES, this.inline);
  }

  /** Room for `panes` pane rows. */
  grow(panes: number): void {
    this.n = grow(this.n, new Int8Array(panes));
    this.row = grow(this.row, new Int32Array(panes * this.rowH));
  }

  /** A new pane: no distinct values. */
  clear(q: number): void {
    this.n[q] = 0;
  }

  add(q: number, h: number): void {
    const k = this.n[q];
    if (k === SPILLED) {
      (this.overflow.get(q) as HashDistinct).add(h);
      return;
    }
    const rowH = this.rowH;
    const a = k > rowH ? this.ext : this.row;
    const base = this.base(q, k);
    for (let i = 0; i < k; i++) if (a[base + i] === h) return;
    if (k < rowH) this.row[base + k] = h;
    else if (k < this.inline) {
      if (k === rowH) {
        const e = this.allocExt(); // may replace this.ext
        const at = e * this.inline;
        for (let i = 0; i < rowH; i++) this.ext[at + i] = this.row[base + i];
        this.ext[at + k] = h;
        this.row[q * rowH] = e;
      } else this.ext[base + k] = h;
    } else {
      const d = new HashDistinct(this.precision, this.exactLimit);
      for (let i = 0; i < k; i++) d.add(a[base + i]);
      d.add(h);
      if (a === this.ext) this.freeExt(base / this.inline);
      this.overflow.set(q, d);
      this.n[q] = SPILLED;
      return;
    }
    this.n[q] = k + 1;
  }

  /** Frees pane q's ext row or HashDistinct, if any, and empties its distinct values. */
  drop(q: number): void {
    const k = this.n[q];
    if (k === SPILLED) this.overflow.delete(q);
    else if (k > this.rowH) this.freeExt(this.row[q * this.rowH]);
    this.n[q] = 0;
  }

  /** Right to erasure: drops `h` from the exact values of panes 0..panes-1 (sketches hold none). */
  forget(h: number, panes: number): void {
    const rowH = this.rowH;
    for (let q = 0; q < panes; q++) {
      const k = this.n[q];
      if (k === SPILLED) {
        this.overflow.get(q)?.forget(h);
        continue;
      }
      const inExt = k > rowH;
      const a = inExt ? this.ext : this.row;
      const base = this.base(q, k);
      for (let i = 0; i < k; i++) {
        if (a[base + i] !== h) continue;
        a[base + i] = a[base + k - 1];
        this.n[q] = k - 1;
        if (inExt && k - 1 === rowH) {
          // back into the row, so that "in ext" stays "more than rowH"
          for (let j = 0; j < rowH; j++) this.row[q * rowH + j] = a[base + j];
          this.freeExt(base / this.inline);
        }
        break;
      }
    }
  }

  /** Pane q's sketch, once its distinct values went past the exact limit. */
  sketch(q: number): Uint8Array | undefined {
    return this.n[q] === SPILLED ? (this.overflow.get(q)?.sketch ?? undefined) : undefined;
  }

  /** Pane q's exact hashes, in the order they came in (none once past the exact limit). */
  list(q: number): number[] {
    const out: number[] = [];
    this.writeTo(q, { hash: (h) => out.push(h) });
    return out;
  }

  /** Pane q's exact hashes into a changelog record, in the order they came in. */
  writeTo(q: number, w: Pick<PaneSink, 'hash'>): void {
    const k = this.n[q];
    if (k === SPILLED) (this.overflow.get(q) as HashDistinct).forEachExact((h) => w.hash(h));
    else {
      const a = k > this.rowH ? this.ext : this.row;
      const base = this.base(q, k);
      for (let i = 0; i < k; i++) w.hash(a[base + i]);
    }
  }

  /** Adds pane q's distinct values to a window's counter. */
  mergeInto(q: number, d: HashDistinct): void {
    const k = this.n[q];
    if (k === SPILLED) d.merge(this.overflow.get(q) as HashDistinct);
    else {
      const a = k > this.rowH ? this.ext : this.row;
      const base = this.base(q, k);
      for (let i = 0; i < k; i++) d.add(a[base + i]);
    }
  }

  /** Replaces pane q's distinct values with a restored sketch. */
  loadSketch(q: number, sketch: Uint8Array): void {
    const d = new HashDistinct(this.precision, this.exactLimit);
    d.setSketch(sketch.slice());
    this.drop(q);
    this.overflow.set(q, d);
    this.n[q] = SPILLED;
  }

  /** Where pane q's k exact hashes start: in its row, or (k > rowH) in its ext row. */
  private base(q: number, k: number): number {
    return k > this.rowH ? this.row[q * this.rowH] * this.inline : q * this.rowH;
  }

  private allocExt(): number {
    let e = this.extFree;
    if (e !== NONE) this.extFree = this.ext[e * this.inline];
    else {
      if (this.extTop * this.inline === this.ext.length)
        this.ext = grow(this.ext, new Int32Array(grownLength(this.extTop) * this.inline));
      e = this.extTop++;
    }
    return e;
  }

  private freeExt(e: number): void {
    this.ext[e * this.inline] = this.extFree;
    this.extFree = e;
  }
}
