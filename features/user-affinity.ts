import { growF64, growU8 } from '../models/core/arrays.js';
import { DecayedScores } from './decayed-scores.js';

/** Labels a user slot holds in the columns; a third moves the user's labels to a DecayedScores. */
const INLINE = 2;
/** `count` of a slot whose labels live in `spilled`. */
const SPILLED = 255;

/**
 * Decayed category affinity per user slot, the same sums as a DecayedScores per user but
 * without an object per user: up to two labels in columns (the label string, its value and
 * reference time as unboxed doubles), and only a user with a third label gets a DecayedScores,
 * built from the two in insertion order so eviction and ties behave exactly as before. A
 * DecayedScores and its two arrays were about 140 B per user with one or two labels; the
 * columns are 2 label references and 4 doubles, 49 B per slot (issue 12).
 *
 * Bound: one column row per user slot (the users' EntityIndex cap and TTL); `spilled` holds at
 * most one DecayedScores per user slot, each at most `capacity` labels.
 */
export class UserAffinity {
  private labels: (string | undefined)[] = [];
  /** [value, reference time] of label i of slot s at 4s + 2i, 4s + 2i + 1. */
  private vt = new Float64Array(0);
  private count = new Uint8Array(0);
  private readonly spilled = new Map<number, DecayedScores>();
  private readonly inline: number;

  constructor(
    private readonly halfLifeMs: number,
    private readonly capacity: number,
  ) {
    // a capacity below 2 needs eviction among the inline labels: leave that to DecayedScores
    this.inline = Math.min(INLINE, capacity);
  }

  /** Forgets a new or recycled slot's labels. */
  reset(slot: number): void {
    // each array rounds its capacity on its own (doubling, then by a quarter), so each is grown
    this.count = growU8(this.count, slot + 1);
    this.vt = growF64(this.vt, (slot + 1) * 2 * INLINE);
    if (this.count[slot] === SPILLED) this.spilled.delete(slot);
    this.count[slot] = 0;
    this.labels[slot * INLINE] = undefined;
    this.labels[slot * INLINE + 1] = undefined;
  }

  /** DecayedScores.add for the slot's labels. */
  add(slot: number, label: string, weight: number, ts: number): void {
    const n = this.count[slot] as number;
    if (n === SPILLED) {
      (this.spilled.get(slot) as DecayedScores).add(label, weight, ts);
      return;
    }
    const l = slot * INLINE;
    let i = 0;
    while (i < n && this.labels[l + i] !== label) i++;
    if (i === n) {
      if (n < this.inline) {
        this.labels[l + n] = label;
        this.vt[2 * (l + n)] = weight;
        this.vt[2 * (l + n) + 1] = ts;
        this.count[slot] = n + 1;
        return;
      }
      const d = DecayedScores.of(this.halfLifeMs, this.capacity, this.inlineLabels(slot, n), [
        ...this.vt.subarray(2 * l, 2 * (l + n)),
      ]);
      d.add(label, weight, ts);
      this.spilled.set(slot, d);
      this.count[slot] = SPILLED;
      this.labels[l] = undefined;
      this.labels[l + 1] = undefined;
      return;
    }
    // the same arithmetic as DecayedScores.add on an existing label
    const o = 2 * (l + i);
    const v = this.vt[o] as number;
    const t = this.vt[o + 1] as number;
    if (ts >= t) {
      this.vt[o] = v * this.decay(ts - t) + weight;
      this.vt[o + 1] = ts;
    } else this.vt[o] = v + weight * this.decay(t - ts);
  }

  /** DecayedScores.valueAt. */
  valueAt(slot: number, label: string, ts: number): number {
    const n = this.count[slot] as number;
    if (n === SPILLED) return (this.spilled.get(slot) as DecayedScores).valueAt(label, ts);
    const l = slot * INLINE;
    for (let i = 0; i < n; i++) if (this.labels[l + i] === label) return this.scoreAt(l + i, ts);
    return 0;
  }

  /** DecayedScores.ranked: labels with a positive score at `ts`, best first. */
  ranked(slot: number, ts: number): { label: string; score: number }[] {
    const n = this.count[slot] as number;
    if (n === SPILLED) return (this.spilled.get(slot) as DecayedScores).ranked(ts);
    const out: { label: string; score: number }[] = [];
    const l = slot * INLINE;
    for (let i = 0; i < n; i++) {
      const score = this.scoreAt(l + i, ts);
      if (score > 0) out.push({ label: this.labels[l + i] as string, score });
    }
    return out.sort((a, b) => b.score - a.score || (a.label < b.label ? -1 : 1));
  }

  /** Whether the slot has any label (a DecayedScores existed for it before). */
  has(slot: number): boolean {
    return this.count[slot] !== 0;
  }

  private inlineLabels(slot: number, n: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.labels[slot * INLINE + i] as string);
    return out;
  }

  private scoreAt(j: number, ts: number): number {
    return (this.vt[2 * j] as number) * this.decay(ts - (this.vt[2 * j + 1] as number));
  }

  private decay(dt: number): number {
    return Math.pow(2, -dt / this.halfLifeMs);
  }
}
