/**
 * Exponential forgetting in event time without touching every counter on every event.
 *
 * Instead of multiplying all counts by 2^(-dt/halfLife) as time passes, each new increment is
 * inflated by 2^((ts - origin)/halfLife). Ratios between counters are then exactly those of the
 * decayed counts. When the inflation grows too large for Float32 the owner rescales its arrays
 * once and the origin moves forward.
 */
export class DecayClock {
  /** Event time the stored values are expressed relative to; NaN until the first event. */
  origin = Number.NaN;
  readonly halfLifeMs: number;

  constructor(halfLifeMs: number) {
    if (!(halfLifeMs > 0)) throw new RangeError(`halfLifeMs must be > 0, got ${halfLifeMs}`);
    this.halfLifeMs = halfLifeMs;
  }

  /**
   * Call before using weight(ts) for an event at `ts`. Returns the factor every stored value must
   * be multiplied by (1 when nothing to do, 0 when the jump is so large that everything is gone).
   */
  advance(ts: number): number {
    if (this.origin !== this.origin) {
      this.origin = ts;
      return 1;
    }
    const e = (ts - this.origin) / this.halfLifeMs;
    if (e <= MAX_EXPONENT) return 1;
    this.origin = ts;
    return e > 1000 ? 0 : Math.pow(2, -e);
  }

  /** Inflated weight of an event at `ts` (older-than-origin events count less, as they should). */
  weight(ts: number): number {
    // events of one basket share a timestamp: skip the Math.pow for repeats
    if (ts === this.lastTs && this.origin === this.lastOrigin) return this.lastWeight;
    const e = (ts - this.origin) / this.halfLifeMs;
    const w = e < -1000 ? 0 : Math.pow(2, e);
    this.lastTs = ts;
    this.lastOrigin = this.origin;
    this.lastWeight = w;
    return w;
  }

  private lastTs = Number.NaN;
  private lastOrigin = Number.NaN;
  private lastWeight = 0;
}

/** 2^40 keeps inflated counts (x observed counts) far below Float32's 3.4e38. */
const MAX_EXPONENT = 40;
