/**
 * Exponentially decayed sums per label, each stored as (value, reference time). Adding an
 * event older than the reference discounts the event instead of the sum, so the result does
 * not depend on arrival order: out-of-order events need no special case. At most `capacity`
 * labels are kept; a new label evicts the one with the lowest current score.
 *
 * Labels and (value, time) pairs are two small arrays in insertion order, not a Map of
 * objects: with at most `capacity` (16) labels a scan is as fast, and a user's one or two
 * labels cost about 150 bytes instead of about 400 (issue 12; the pairs are unboxed doubles).
 */
export class DecayedScores {
  private labels: string[] = [];
  /** [value, reference time] of labels[i] at 2i, 2i+1. */
  private vt: number[] = [];

  constructor(
    private readonly halfLifeMs: number,
    private readonly capacity: number,
  ) {}

  /** Scores holding `labels` with their [value, time] pairs, in that (insertion) order. */
  static of(halfLifeMs: number, capacity: number, labels: string[], vt: number[]): DecayedScores {
    const d = new DecayedScores(halfLifeMs, capacity);
    d.labels = labels;
    d.vt = vt;
    return d;
  }

  get size(): number {
    return this.labels.length;
  }

  add(label: string, weight: number, ts: number): void {
    const i = this.labels.indexOf(label);
    const vt = this.vt;
    if (i < 0) {
      if (this.labels.length >= this.capacity) this.evictLowest(ts);
      // copied to exact size (at most `capacity` entries): a push grows the backing store by
      // half + 16 slots
      this.labels = this.labels.concat(label);
      this.vt = this.vt.concat(weight, ts);
      return;
    }
    const v = vt[2 * i] as number;
    const t = vt[2 * i + 1] as number;
    if (ts >= t) {
      vt[2 * i] = v * this.decay(ts - t) + weight;
      vt[2 * i + 1] = ts;
    } else vt[2 * i] = v + weight * this.decay(t - ts);
  }

  valueAt(label: string, ts: number): number {
    const i = this.labels.indexOf(label);
    return i < 0 ? 0 : this.scoreAt(i, ts);
  }

  /** Labels with a positive score at `ts`, best first. */
  ranked(ts: number): { label: string; score: number }[] {
    const out: { label: string; score: number }[] = [];
    for (let i = 0; i < this.labels.length; i++) {
      const score = this.scoreAt(i, ts);
      if (score > 0) out.push({ label: this.labels[i] as string, score });
    }
    return out.sort((a, b) => b.score - a.score || (a.label < b.label ? -1 : 1));
  }

  private scoreAt(i: number, ts: number): number {
    return (this.vt[2 * i] as number) * this.decay(ts - (this.vt[2 * i + 1] as number));
  }

  private decay(dt: number): number {
    return Math.pow(2, -dt / this.halfLifeMs);
  }

  private evictLowest(ts: number): void {
    let worst = -1;
    let worstScore = Infinity;
    for (let i = 0; i < this.labels.length; i++) {
      const s = this.scoreAt(i, ts);
      if (s < worstScore) {
        worstScore = s;
        worst = i;
      }
    }
    if (worst < 0) return;
    this.labels.splice(worst, 1);
    this.vt.splice(2 * worst, 2);
  }
}
