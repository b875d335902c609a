import { Rng } from '../models/core/rng.js';
import { ArmMemo } from './arm-memo.js';

/**
 * Gaussian Thompson sampling over a handful of arms, with its exact propensity. Each arm's
 * posterior is summarised by a mean and a standard deviation (the normal approximation of its
 * Beta posterior); a decision samples every eligible arm once and takes the largest draw. With
 * probability `epsilon` it picks uniformly among the eligible arms instead, so every eligible arm
 * keeps a propensity of at least epsilon / k and importance weights stay bounded.
 */
export interface Arms {
  readonly means: readonly number[];
  readonly sds: readonly number[];
  /** Arms that may not be chosen (a channel without consent or at its cap) are false. */
  readonly eligible: readonly boolean[];
}

export interface ArmChoice {
  readonly index: number;
  /** P(this index) under the sampling policy, mixture included. */
  readonly propensity: number;
  /** True when the uniform branch chose (for the reason string). */
  readonly explored: boolean;
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7). */
export function normCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

const MIN_SD = 1e-6;

/**
 * ∫ φ_i(x) Π_{j≠i} Φ_j(x) dx: P(arm i's draw is the largest), by Simpson's rule on a grid made of
 * 16 steps across ±7 sd of every arm, kept where arm i's density lives. A narrow arm's CDF is a
 * near step; its own grid points resolve it wherever it sits inside a wide arm's range.
 */
function integrateMax(arms: Arms, idx: readonly number[], i: number): number {
  const sd = (j: number): number => Math.max(MIN_SD, arms.sds[j] as number);
  const mi = arms.means[i] as number;
  const si = sd(i);
  const lo = mi - 7 * si;
  const hi = mi + 7 * si;
  const pts: number[] = [lo, hi];
  for (const j of idx) {
    const mj = arms.means[j] as number;
    const sj = sd(j);
    for (let t = 0; t <= 16; t++) {
      const x = mj + sj * (-7 + (14 * t) / 16);
      if (x > lo && x < hi) pts.push(x);
    }
  }
  pts.sort((a, b) => a - b);
  const f = (x: number): number => {
    const z = (x - mi) / si;
    let v = Math.exp(-0.5 * z * z) / (si * Math.sqrt(2 * Math.PI));
    for (const j of idx) {
      if (j === i || v === 0) continue;
      v *= normCdf((x - (arms.means[j] as number)) / sd(j));
    }
    return v;
  };
  let acc = 0;
  let fa = f(pts[0] as number);
  for (let k = 1; k < pts.length; k++) {
    const a = pts[k - 1] as number;
    const b = pts[k] as number;
    if (b <= a) continue;
    const fb = f(b);
    acc += ((b - a) / 6) * (fa + 4 * f((a + b) / 2) + fb);
    fa = fb;
  }
  return acc;
}

/** An arm beyond 5 sd of every other is chosen with probability 1 − O(1e-7) (or never). */
function dominance(arms: Arms, idx: readonly number[], i: number): 0 | 1 | undefined {
  const sd = (j: number): number => Math.max(MIN_SD, arms.sds[j] as number);
  const mi = arms.means[i] as number;
  const si = sd(i);
  let above = true;
  for (const j of idx) {
    if (j === i) continue;
    const mj = arms.means[j] as number;
    if (mi + 5 * si < mj - 5 * sd(j)) return 0;
    if (mj + 5 * sd(j) >= mi - 5 * si) above = false;
  }
  return above ? 1 : undefined;
}

const eligibleOf = (arms: Arms): number[] => {
  const idx: number[] = [];
  for (let j = 0; j < arms.means.length; j++) if (arms.eligible[j]) idx.push(j);
  return idx;
};

/** P(arm i has the largest draw) for every eligible arm (0 for the others); sums to 1. */
export function maxProbabilities(arms: Arms): number[] {
  const idx = eligibleOf(arms);
  const out = new Array<number>(arms.means.length).fill(0);
  if (idx.length === 1) out[idx[0] as number] = 1;
  if (idx.length <= 1) return out;
  let total = 0;
  for (const i of idx) {
    const d = dominance(arms, idx, i);
    out[i] = d ?? integrateMax(arms, idx, i);
    total += out[i] as number;
  }
  // Quadrature error must not make the probabilities sum to anything but 1.
  if (total > 0) for (const i of idx) out[i] = (out[i] as number) / total;
  return out;
}

/** P(arm `i` has the largest draw) alone: one integral instead of one per arm (what a decision logs). */
export function armProbability(arms: Arms, i: number): number {
  if (!arms.eligible[i]) return 0;
  const idx = eligibleOf(arms);
  if (idx.length === 1) return 1;
  return Math.min(1, dominance(arms, idx, i) ?? integrateMax(arms, idx, i));
}

/** armProbability is pure: the same arms recur across decisions (arm-memo.ts). */
const PROBABILITIES = new ArmMemo(256);

/** Box–Muller from the decision's own generator. */
function gauss(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** One Thompson draw (or the uniform branch) and the propensity of what it chose. */
export function sampleArm(arms: Arms, rng: Rng, epsilon: number): ArmChoice | undefined {
  const eligible: number[] = [];
  for (let i = 0; i < arms.means.length; i++) if (arms.eligible[i]) eligible.push(i);
  if (eligible.length === 0) return undefined;
  const k = eligible.length;
  const explore = rng.next() < epsilon;
  let index = eligible[0] as number;
  if (explore) {
    index = eligible[Math.min(k - 1, Math.floor(rng.next() * k))] as number;
  } else {
    let best = -Infinity;
    for (const i of eligible) {
      const draw = (arms.means[i] as number) + Math.max(MIN_SD, arms.sds[i] as number) * gauss(rng);
      if (draw > best) {
        best = draw;
        index = i;
      }
    }
  }
  const p = PROBABILITIES.get(arms, index, armProbability);
  return { index, propensity: (1 - epsilon) * p + epsilon / k, explored: explore };
}

/** The arm with the best mean (first on ties), or with probability `epsilon` a uniform one. */
export function greedyArm(arms: Arms, rng: Rng, epsilon: number): ArmChoice | undefined {
  const eligible: number[] = [];
  for (let i = 0; i < arms.means.length; i++) if (arms.eligible[i]) eligible.push(i);
  if (eligible.length === 0) return undefined;
  const k = eligible.length;
  let best = eligible[0] as number;
  for (const i of eligible) if ((arms.means[i] as number) > (arms.means[best] as number)) best = i;
  const explore = rng.next() < epsilon;
  const index = explore ? (eligible[Math.min(k - 1, Math.floor(rng.next() * k))] as number) : best;
  return {
    index,
    propensity: (index === best ? 1 - epsilon : 0) + epsilon / k,
    explored: explore,
  };
}

/** Uniform choice among eligible arms (the static policy's A/B split). */
export function uniformArm(eligible: readonly boolean[], rng: Rng): ArmChoice | undefined {
  const idx: number[] = [];
  for (let i = 0; i < eligible.length; i++) if (eligible[i]) idx.push(i);
  if (idx.length === 0) return undefined;
  const index = idx[Math.min(idx.length - 1, Math.floor(rng.next() * idx.length))] as number;
  return { index, propensity: 1 / idx.length, explored: true };
}

/** Mean and sd of Beta(a, b), the posterior an arm's counts give. */
export function betaMoments(a: number, b: number): { mean: number; sd: number } {
  const n = a + b;
  return { mean: a / n, sd: Math.sqrt((a * b) / (n * n * (n + 1))) };
}

/** A generator seeded by a decision's idempotency key: replays draw the same numbers. */
export function rngForKey(key: string): Rng {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return new Rng(h >>> 0 || 1);
}
