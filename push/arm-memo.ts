/**
 * A direct-mapped cache of one pure function of a handful of arms (means, sds, the eligible mask)
 * and an arm index: bandit.ts's armProbability, whose numerical integral was a third of a push
 * decision's cost. Most decisions score the same arms (the population's variant arms for a trigger
 * and locale, for every user without a record of their own and no recent variant), so the same
 * integral was computed over and over. Keys are compared exactly, float for float, so a hit
 * returns the very number the function computed: decisions and their rows do not change.
 */
export interface MemoArms {
  readonly means: readonly number[];
  readonly sds: readonly number[];
  readonly eligible: readonly boolean[];
}

/** Arms beyond this many are not cached (push has at most 4 channels and 3 variants). */
const MAX_ARMS = 4;
/** Per slot: arm count, eligible mask, index, value, then MAX_ARMS means and MAX_ARMS sds. */
const STRIDE = 4 + 2 * MAX_ARMS;

export class ArmMemo {
  private readonly keys: Float64Array;
  private readonly bits = new Float64Array(1);
  private readonly words = new Uint32Array(this.bits.buffer);
  private readonly mask: number;

  /** `slots` is rounded up to a power of two. */
  constructor(slots = 256) {
    let n = 1;
    while (n < slots) n *= 2;
    this.mask = n - 1;
    // Arm count -1 marks an empty slot.
    this.keys = new Float64Array(n * STRIDE).fill(-1);
  }

  /** f(arms, i), from the cache when these exact arms and index were seen last in their slot. */
  get(arms: MemoArms, i: number, f: (arms: MemoArms, i: number) => number): number {
    const n = arms.means.length;
    if (n > MAX_ARMS || arms.sds.length !== n || arms.eligible.length !== n) return f(arms, i);
    let elig = 0;
    for (let j = 0; j < n; j++) if (arms.eligible[j]) elig |= 1 << j;
    let h = Math.imul(n * 31 + elig, 0x9e3779b1) ^ i;
    for (let j = 0; j < n; j++) {
      h = this.mix(h, arms.means[j] as number);
      h = this.mix(h, arms.sds[j] as number);
    }
    const k = this.keys;
    const o = ((h ^ (h >>> 15)) & this.mask) * STRIDE;
    let hit = k[o] === n && k[o + 1] === elig && k[o + 2] === i;
    for (let j = 0; hit && j < n; j++)
      hit = k[o + 4 + j] === arms.means[j] && k[o + 4 + MAX_ARMS + j] === arms.sds[j];
    if (hit) return k[o + 3] as number;
    const v = f(arms, i);
    k[o] = n;
    k[o + 1] = elig;
    k[o + 2] = i;
    k[o + 3] = v;
    for (let j = 0; j < n; j++) {
      k[o + 4 + j] = arms.means[j] as number;
      k[o + 4 + MAX_ARMS + j] = arms.sds[j] as number;
    }
    return v;
  }

  private mix(h: number, x: number): number {
    this.bits[0] = x;
    h = Math.imul(h ^ (this.words[0] as number), 0x85ebca6b);
    return Math.imul(h ^ (this.words[1] as number), 0xc2b2ae35);
  }
}
