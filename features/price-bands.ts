import { growF64, growU8 } from '../models/core/arrays.js';

/** Bands a user slot holds in the columns; a third moves the slot to a full row in `spilled`. */
const INLINE = 2;
/** `count` of a slot whose bands live in `spilled`. */
const SPILLED = 255;

/**
 * Decayed weight per price band and user slot. A user's interest falls in one or two of the
 * bands (11 by default) nearly always, so a slot keeps up to two (band, weight) pairs in columns
 * and only a slot with a third band gets a full row of `bands` doubles. Absent bands weigh 0, as
 * the zeros of a full row did, and present ones go through the same multiplications and
 * additions, so the weights and the best band are exactly those of a full row per slot: 11
 * doubles (88 B) per user became 2 doubles and 3 bytes (19 B; issue 12).
 *
 * Bound: one column row per user slot (the users' EntityIndex cap and TTL); `spilled` holds at
 * most one row of `bands` doubles per user slot.
 */
export class PriceBands {
  private band = new Uint8Array(0);
  private weight = new Float64Array(0);
  private count = new Uint8Array(0);
  private readonly spilled = new Map<number, Float64Array>();
  /** Pairs kept in the columns: none when a band number does not fit a byte (every slot spills). */
  private readonly inline: number;

  constructor(private readonly bands: number) {
    this.inline = bands <= 256 ? INLINE : 0;
  }

  /** All bands of a new or recycled slot weigh 0. */
  reset(slot: number): void {
    // each array rounds its capacity on its own (doubling, then by a quarter), so each is grown
    this.count = growU8(this.count, slot + 1);
    this.band = growU8(this.band, (slot + 1) * INLINE);
    this.weight = growF64(this.weight, (slot + 1) * INLINE);
    if (this.count[slot] === SPILLED) this.spilled.delete(slot);
    this.count[slot] = 0;
  }

  /** Multiplies every band's weight by `k` (decay to a later reference time). */
  scale(slot: number, k: number): void {
    const n = this.count[slot] as number;
    if (n === SPILLED) {
      const row = this.spilled.get(slot) as Float64Array;
      for (let i = 0; i < this.bands; i++) row[i] *= k;
      return;
    }
    for (let i = 0; i < n; i++) this.weight[slot * INLINE + i] *= k;
  }

  add(slot: number, band: number, w: number): void {
    const n = this.count[slot] as number;
    if (n === SPILLED) {
      (this.spilled.get(slot) as Float64Array)[band] += w;
      return;
    }
    const o = slot * INLINE;
    for (let i = 0; i < n; i++) {
      if (this.band[o + i] === band) {
        this.weight[o + i] += w;
        return;
      }
    }
    if (n < this.inline) {
      this.band[o + n] = band;
      // the full row's 0 plus w
      this.weight[o + n] = 0 + w;
      this.count[slot] = n + 1;
      return;
    }
    const row = new Float64Array(this.bands);
    for (let i = 0; i < n; i++) row[this.band[o + i] as number] = this.weight[o + i] as number;
    row[band] += w;
    this.spilled.set(slot, row);
    this.count[slot] = SPILLED;
  }

  /** The first band of the highest weight (band 0 when all weigh 0), as a scan of a full row. */
  best(slot: number): number {
    let best = 0;
    let bestW = this.weightOf(slot, 0);
    for (let i = 1; i < this.bands; i++) {
      const w = this.weightOf(slot, i);
      if (w > bestW) {
        best = i;
        bestW = w;
      }
    }
    return best;
  }

  private weightOf(slot: number, band: number): number {
    const n = this.count[slot] as number;
    if (n === SPILLED) return (this.spilled.get(slot) as Float64Array)[band] as number;
    const o = slot * INLINE;
    for (let i = 0; i < n; i++) if (this.band[o + i] === band) return this.weight[o + i] as number;
    return 0;
  }
}
