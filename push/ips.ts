import { CHANNELS, VARIANTS } from './types.js';

/** One logged, treated, sent push and what came of it (evaluate-policy's input). */
export interface LoggedDecision {
  readonly trigger: string;
  readonly locale: string;
  readonly channel: string;
  readonly variant: string;
  /** P(channel and variant) under the logging policy. */
  readonly propensity: number;
  /** P(variant) under the logging policy. */
  readonly variantPropensity: number;
  readonly opened: number;
  readonly converted: number;
  /** Simulated logs only: the true open probability of each variant in this context. */
  readonly trueOpen?: readonly number[];
}

/** A candidate policy: the probability it would have taken the logged action in its context. */
export interface CandidatePolicy {
  readonly name: string;
  prob(d: LoggedDecision): number;
  /**
   * True when the candidate would act where the logging policy never does: a component (channel
   * or variant) the logger chose deterministically, which the candidate would change. Those
   * rows carry no information about the candidate's action, so its estimate is biased.
   */
  unsupported?(d: LoggedDecision): boolean;
  /** The probability of each variant, for the simulator's truth (channel as logged). */
  variantProbs?(d: LoggedDecision): readonly number[];
}

export interface Estimate {
  readonly value: number;
  readonly ciLow: number;
  readonly ciHigh: number;
}

export interface OffPolicyResult {
  readonly policy: string;
  readonly n: number;
  /** Kish effective sample size of the importance weights. */
  readonly effectiveN: number;
  readonly openIps: Estimate;
  readonly openSnips: Estimate;
  readonly conversionIps: Estimate;
  readonly conversionSnips: Estimate;
  /** Rows where the logging policy never explores what the candidate would do (see unsupported). */
  readonly unsupported: number;
  /** Simulated logs only: the candidate's true open rate on the logged contexts. */
  readonly trueOpen?: number;
}

const Z95 = 1.96;

const channelProb = (d: LoggedDecision): number =>
  d.variantPropensity > 0 ? Math.min(1, d.propensity / d.variantPropensity) : 0;

/**
 * Candidate policies by name: `logged` (the logging policy itself: a sanity check),
 * `uniform` (variants uniformly at random, channels as logged), `variant=B` (always B), and
 * `channel=email` (always that channel, variants as logged); `channel=email,variant=B` combines.
 */
export function parsePolicy(spec: string): CandidatePolicy {
  if (spec === 'logged') return { name: spec, prob: (d) => d.propensity };
  let variant: string | undefined;
  let channel: string | undefined;
  let uniform = false;
  for (const part of spec.split(',')) {
    const [k, v] = part.split('=');
    if (k === 'uniform' && v === undefined) uniform = true;
    else if (k === 'variant' && (VARIANTS as readonly string[]).includes(v ?? '')) variant = v;
    else if (k === 'channel' && (CHANNELS as readonly string[]).includes(v ?? '')) channel = v;
    else
      throw new RangeError(
        `unknown policy part "${part}": use logged, uniform, variant=A|B|C, channel=push|email|in_app|sms`,
      );
  }
  if (uniform && variant !== undefined)
    throw new RangeError('uniform and variant= exclude each other');
  const vProbs = (d: LoggedDecision): number[] =>
    VARIANTS.map((v) =>
      variant !== undefined
        ? Number(v === variant)
        : uniform
          ? 1 / VARIANTS.length
          : v === d.variant
            ? 1
            : 0,
    );
  return {
    name: spec,
    prob: (d) => {
      const pc = channel !== undefined ? Number(d.channel === channel) : channelProb(d);
      const pv =
        variant !== undefined
          ? Number(d.variant === variant)
          : uniform
            ? 1 / VARIANTS.length
            : d.variantPropensity;
      return pc * pv;
    },
    unsupported: (d) =>
      (channel !== undefined && channelProb(d) >= 1 - 1e-9 && d.channel !== channel) ||
      (variant !== undefined && d.variantPropensity >= 1 - 1e-9 && d.variant !== variant) ||
      (uniform && d.variantPropensity >= 1 - 1e-9),
    // Only variant policies keep the logged context (channel, time) the truth was computed for.
    ...(channel === undefined && (uniform || variant !== undefined) && { variantProbs: vProbs }),
  };
}

function ips(w: readonly number[], r: readonly number[]): { ips: Estimate; snips: Estimate } {
  const n = w.length;
  let sw = 0;
  let swr = 0;
  for (let i = 0; i < n; i++) {
    sw += w[i] as number;
    swr += (w[i] as number) * (r[i] as number);
  }
  const mean = swr / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += ((w[i] as number) * (r[i] as number) - mean) ** 2;
  const se = Math.sqrt(v / Math.max(1, n - 1) / n);
  const sn = sw > 0 ? swr / sw : NaN;
  let d = 0;
  for (let i = 0; i < n; i++) d += ((w[i] as number) * ((r[i] as number) - sn)) ** 2;
  const sse = sw > 0 ? Math.sqrt(d) / sw : NaN;
  return {
    ips: { value: mean, ciLow: mean - Z95 * se, ciHigh: mean + Z95 * se },
    snips: { value: sn, ciLow: sn - Z95 * sse, ciHigh: sn + Z95 * sse },
  };
}

/**
 * Off-policy estimates of a candidate's open and conversion rates per push from logged pushes:
 * inverse propensity scoring (unbiased, CI from the sample variance) and self-normalised IPS
 * (lower variance, CI by the delta method). Rows with a propensity of 0 are skipped.
 */
export function evaluatePolicy(
  rows: readonly LoggedDecision[],
  policy: CandidatePolicy,
): OffPolicyResult {
  const w: number[] = [];
  const open: number[] = [];
  const conv: number[] = [];
  let truth = 0;
  let truthN = 0;
  let unsupported = 0;
  for (const d of rows) {
    if (!(d.propensity > 0)) continue;
    if (policy.unsupported?.(d)) unsupported++;
    w.push(policy.prob(d) / d.propensity);
    open.push(d.opened);
    conv.push(d.converted);
    if (policy.variantProbs && d.trueOpen) {
      const p = policy.variantProbs(d);
      truth += p.reduce((s, x, i) => s + x * (d.trueOpen?.[i] ?? 0), 0);
      truthN++;
    }
  }
  let sw = 0;
  let sw2 = 0;
  for (const x of w) {
    sw += x;
    sw2 += x * x;
  }
  const o = ips(w, open);
  const c = ips(w, conv);
  return {
    policy: policy.name,
    n: w.length,
    effectiveN: sw2 > 0 ? (sw * sw) / sw2 : 0,
    unsupported,
    openIps: o.ips,
    openSnips: o.snips,
    conversionIps: c.ips,
    conversionSnips: c.snips,
    ...(truthN > 0 && { trueOpen: truth / truthN }),
  };
}
