/**
 * Exponentially decayed sums per label, each stored as (value, reference time). Adding an
 * event older than the reference discounts the event instead of the sum, so the result does
 * not depend on arrival order: out-of-order events need no special case. At most `capacity`
 * labels are kept; a new label evicts the one with the lowest current score.
 */
export class DecayedScores {
  private readonly entries = new Map<string, { v: number; t: number }>();

  constructor(
    private readonly halfLifeMs: number,
    private readonly capacity: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  add(label: string, weight: number, ts: number): void {
    const e = this.entries.get(label);
    if (e === undefined) {
      if (this.entries.size >= this.capacity) this.evictLowest(ts);
      this.entries.set(label, { v: weight, t: ts });
    } else if (ts >= e.t) {
      e.v = e.v * this.decay(ts - e.t) + weight;
      e.t = ts;
    } else e.v += weight * this.decay(e.t - ts);
  }

  valueAt(label: string, ts: number): number {
    const e = this.entries.get(label);
    return e === undefined ? 0 : e.v * this.decay(ts - e.t);
  }

  /** Labels with a positive score at `ts`, best first. */
  ranked(ts: number): { label: string; score: number }[] {
    const out: { label: string; score: number }[] = [];
    for (const [label, e] of this.entries) {
      const score = e.v * this.decay(ts - e.t);
      if (score > 0) out.push({ label, score });
    }
    return out.sort((a, b) => b.score - a.score || (a.label < b.label ? -1 : 1));
  }

  private decay(dt: number): number {
    return Math.pow(2, -dt / this.halfLifeMs);
  }

  private evictLowest(ts: number): void {
    let worst: string | undefined;
    let worstScore = Infinity;
    for (const [label, e] of this.entries) {
      const s = e.v * this.decay(ts - e.t);
      if (s < worstScore) {
        worstScore = s;
        worst = label;
      }
    }
    if (worst !== undefined) this.entries.delete(worst);
  }
}
