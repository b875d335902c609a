import type { Rng } from './rng.js';

/**
 * Sampled missing entries for implicit-feedback factorisation: items drawn uniformly from the
 * item ids of the last `pool` positive events, i.e. in proportion to recent popularity, or with
 * probability `uniform` from the whole catalogue. The window slides, so an item that stops
 * selling stops being drawn. Bound: `pool` ids.
 */
export class NegativeSampler {
  ring: Int32Array;
  pos = 0;
  fill = 0;

  constructor(
    pool: number,
    private readonly uniform: number,
  ) {
    this.ring = new Int32Array(Math.max(1, pool));
  }

  /** Fills out[0..n) with up to out.length items other than i (catalogue: [0, rows)); returns n. */
  draw(i: number, out: Int32Array, rng: Rng, rows: number): number {
    let n = 0;
    if (this.fill === 0) return 0;
    for (let t = 0; t < out.length; t++) {
      const j = rng.next() < this.uniform ? rng.int(rows) : this.ring[rng.int(this.fill)];
      if (j !== i) out[n++] = j;
    }
    return n;
  }

  /** Item i had a positive event: it joins the window, replacing the oldest. */
  add(i: number): void {
    this.ring[this.pos] = i;
    this.pos = (this.pos + 1) % this.ring.length;
    if (this.fill < this.ring.length) this.fill++;
  }

  load(ring: Int32Array, pos: number, fill: number): void {
    this.ring = new Int32Array(this.ring.length);
    this.ring.set(ring.subarray(0, this.ring.length));
    this.pos = pos % this.ring.length;
    this.fill = Math.min(fill, this.ring.length);
  }
}
