import { betaMoments, type Arms } from './bandit.js';
import { addHour } from './hour-counts.js';
import { HOURS_OF_WEEK, normalisedHours } from './send-time.js';
import { CHANNELS, PUSH_TRIGGERS, VARIANTS, type PushTrigger } from './types.js';
import { ST, type RecentPush, type UserPushState } from './user-state.js';

/** Template locales; anything else falls back to the configured default. */
export const LOCALES = ['en', 'de'] as const;
export const localeIndex = (locale: string): number => Math.max(0, LOCALES.indexOf(locale as 'en'));

/** Weight of one activity event and of one push open in the hour-of-week histograms. */
export const ACTIVITY_WEIGHT = 1;
export const OPEN_WEIGHT = 3;
/** Per-user channel rates and variant tastes lean on the population for this many sends. */
const CHANNEL_PRIOR = 4;
/** A user's taste for a variant counts after this many predicted opens of it. */
const TASTE_PRIOR = 3;
/** The population's hour-of-week distribution counts as this many of a user's observations. */
export const HOUR_PRIOR = 4;
/** Open rate assumed for a channel nobody has data on. */
const PRIOR_OPEN = 0.1;
/** Counts are halved beyond these, so old behaviour fades and nothing overflows. */
const USER_HALVE_AT = 40;
const POP_HALVE_AT = 1e6;

const V = VARIANTS.length;
const C = CHANNELS.length;
const conv = { openedN: 0, openedConv: 1, unopenedN: 2, unopenedConv: 3, holdN: 4, holdConv: 5 };

/**
 * The population half of the learned push policy, and the updates of each user's half (stored in
 * their UserPushState): hour-of-week engagement, open rates per channel, a variant arm per trigger
 * and locale, fatigue (open rate of a push against the pushes before it), and conversion rates of
 * opened, unopened and holdout pushes. Fixed size: 168 + 8 + 5·2·3·2 + 5 + 6 numbers.
 */
export class PushLearner {
  private readonly popHours = new Float64Array(HOURS_OF_WEEK);
  private popDist = normalisedHours(this.popHours);
  private popDirty = 0;
  private readonly channel = new Float64Array(2 * C);
  private readonly arms = new Float64Array(PUSH_TRIGGERS.length * LOCALES.length * V * 2);
  private readonly fatigue = new Float64Array(5);
  private readonly conv = new Float64Array(6);

  constructor(private readonly hourHalfLifeMs: number) {}

  /** An activity event or a push open at local hour-of-week `how`. */
  observeHour(s: UserPushState, how: number, weight: number, ts: number): void {
    this.popHours[how] += weight;
    if (++this.popDirty >= 1_000) this.refreshPopulation();
    if (!s.personalization) return;
    let h = s.hours;
    if (h === undefined) {
      h = [];
      s.hoursAt = ts;
    }
    const halvings = Math.floor((ts - s.hoursAt) / this.hourHalfLifeMs);
    if (halvings > 0) s.hoursAt += halvings * this.hourHalfLifeMs;
    s.hours = addHour(h, how, weight, halvings);
  }

  private refreshPopulation(): void {
    this.popDirty = 0;
    let total = 0;
    for (const v of this.popHours) total += v;
    if (total > POP_HALVE_AT) for (let i = 0; i < HOURS_OF_WEEK; i++) this.popHours[i] /= 2;
    this.popDist = normalisedHours(this.popHours);
  }

  /** The population's smoothed hour-of-week distribution (refreshed every 1,000 updates). */
  get population(): Float64Array {
    return this.popDist;
  }

  private armBase(trigger: PushTrigger, locale: string): number {
    return (PUSH_TRIGGERS.indexOf(trigger) * LOCALES.length + localeIndex(locale)) * V * 2;
  }

  /** A push delivered to a treated user: one more send for its channel, variant and load. */
  observeSend(s: UserPushState, p: RecentPush, locale: string): void {
    this.count(s, p, locale, 0);
  }

  /** The first open of a delivered push. */
  observeOpen(s: UserPushState, p: RecentPush, locale: string): void {
    this.count(s, p, locale, 1);
  }

  private count(s: UserPushState, p: RecentPush, locale: string, k: 0 | 1): void {
    const ci = p.channel === '' ? -1 : CHANNELS.indexOf(p.channel);
    const vi = VARIANTS.indexOf(p.variant);
    const fi = p.load === 0 ? k : 2 + k;
    if (ci >= 0) halveAbove((this.channel[2 * ci + k] += 1), this.channel, 2 * ci, POP_HALVE_AT);
    const a = this.armBase(p.trigger, locale) + 2 * vi;
    this.arms[a + k] += 1;
    if ((this.arms[a] as number) > POP_HALVE_AT) halve(this.arms, a, 2);
    this.fatigue[fi] += 1;
    if (k === 0 && p.load > 0) this.fatigue[4] += p.load;
    if ((this.fatigue[0] as number) + (this.fatigue[2] as number) > POP_HALVE_AT)
      halve(this.fatigue, 0, 5);
    if (!s.personalization) return;
    const st = s.statsArray();
    if (ci >= 0) {
      st[ST.channel + 2 * ci + k] += 1;
      if ((st[ST.channel + 2 * ci] as number) > USER_HALVE_AT) halve(st, ST.channel + 2 * ci, 2);
    }
    // The user's taste for a variant is opens over what the population's arm predicted for them.
    const armN = this.arms[a] as number;
    st[ST.variant + 2 * vi + k] += k === 1 ? 1 : ((this.arms[a + 1] as number) + 1) / (armN + 2);
    if ((st[ST.variant + 2 * vi + 1] as number) > USER_HALVE_AT) halve(st, ST.variant + 2 * vi, 2);
    st[ST.fatigue + fi] += 1;
    if (k === 0 && p.load > 0) st[ST.fatigue + 4] += p.load;
    if ((st[ST.fatigue] as number) + (st[ST.fatigue + 2] as number) > USER_HALVE_AT)
      halve(st, ST.fatigue, 5);
  }

  /** A push's attribution window closed: it converted or not, opened or not, or was held out. */
  observeSettled(p: RecentPush): void {
    const n = p.holdout ? conv.holdN : p.opened ? conv.openedN : conv.unopenedN;
    this.conv[n] += 1;
    if (p.converted) this.conv[n + 1] += 1;
    if ((this.conv[n] as number) > POP_HALVE_AT) halve(this.conv, n, 2);
  }

  /**
   * P(purchase within the window | opened) minus the same without the push (holdout users' would-be
   * pushes, else unopened pushes): its posterior mean and sd, from Beta posteriors with weak
   * priors (10 % and 1 %, each worth 10 pushes).
   */
  incrementalConversion(): { mean: number; sd: number } {
    const c = this.conv;
    const open = betaMoments(
      (c[conv.openedConv] as number) + 1,
      (c[conv.openedN] as number) - (c[conv.openedConv] as number) + 9,
    );
    const hold = (c[conv.holdN] as number) >= 50;
    const n = c[hold ? conv.holdN : conv.unopenedN] as number;
    const k = c[hold ? conv.holdConv : conv.unopenedConv] as number;
    const base = betaMoments(k + 0.1, n - k + 9.9);
    return { mean: open.mean - base.mean, sd: Math.sqrt(open.sd ** 2 + base.sd ** 2) };
  }

  private popChannelRate(ci: number): number {
    return (
      ((this.channel[2 * ci + 1] as number) + PRIOR_OPEN * 10) /
      ((this.channel[2 * ci] as number) + 10)
    );
  }

  /** Posterior of each channel's open rate for the user; `eligible` marks the usable ones. */
  channelArms(s: UserPushState, eligible: readonly boolean[]): Arms {
    const means: number[] = [];
    const sds: number[] = [];
    for (let ci = 0; ci < C; ci++) {
      const prior = this.popChannelRate(ci);
      const st = s.personalization ? s.stats : undefined;
      const n = st ? (st[ST.channel + 2 * ci] as number) : 0;
      const o = st ? Math.min(n, st[ST.channel + 2 * ci + 1] as number) : 0;
      const m = betaMoments(o + CHANNEL_PRIOR * prior, n - o + CHANNEL_PRIOR * (1 - prior));
      means.push(m.mean);
      sds.push(m.sd);
    }
    return { means, sds, eligible };
  }

  /**
   * Variant arms for a trigger and locale: the population arm's posterior, its mean moved towards
   * the user's own record and lowered for the variant they got most recently (novelty penalty).
   */
  variantArms(
    s: UserPushState,
    trigger: PushTrigger,
    locale: string,
    at: number,
    novelty: { penalty: number; halfLifeMs: number },
  ): Arms {
    const base = this.armBase(trigger, locale);
    const means: number[] = [];
    const sds: number[] = [];
    for (let vi = 0; vi < V; vi++) {
      const n = this.arms[base + 2 * vi] as number;
      const o = Math.min(n, this.arms[base + 2 * vi + 1] as number);
      const g = betaMoments(1 + o, 1 + n - o);
      const st = s.personalization ? s.stats : undefined;
      const expected = st ? (st[ST.variant + 2 * vi] as number) : 0;
      const opened = st ? (st[ST.variant + 2 * vi + 1] as number) : 0;
      let mean = (g.mean * (opened + TASTE_PRIOR)) / (expected + TASTE_PRIOR);
      if (vi === s.lastVariant && novelty.penalty > 0)
        mean *= 1 - novelty.penalty * 0.5 ** ((at - s.lastVariantTs) / novelty.halfLifeMs);
      means.push(mean);
      sds.push(g.sd);
    }
    return { means, sds, eligible: [true, true, true] };
  }

  /** Fatigue: the factor one more push in the window multiplies the open rate by (0.3..1). */
  fatigueFactor(s: UserPushState): number {
    const f = this.fatigue;
    const popFresh = ((f[1] as number) + 1) / ((f[0] as number) + 10);
    const popLoaded = ((f[3] as number) + popFresh * 10) / ((f[2] as number) + 10);
    const popLoad = (f[2] as number) > 0 ? (f[4] as number) / (f[2] as number) : 1;
    const st = s.personalization ? s.stats : undefined;
    const k = 10;
    const fs = st ? (st[ST.fatigue] as number) : 0;
    const fo = st ? Math.min(fs, st[ST.fatigue + 1] as number) : 0;
    const ls = st ? (st[ST.fatigue + 2] as number) : 0;
    const lo = st ? Math.min(ls, st[ST.fatigue + 3] as number) : 0;
    const fresh = (fo + k * popFresh) / (fs + k);
    const loaded = (lo + k * popLoaded) / (ls + k);
    const load = st && ls > 0 ? (st[ST.fatigue + 4] as number) / ls : popLoad;
    return clamp((loaded / fresh) ** (1 / Math.max(1, load)), 0.3, 1);
  }

  /** The user's cap: stop where their fatigued open rate would fall below `floor` × fresh. */
  userCap(s: UserPushState, cap: number, floor: number): number {
    const phi = this.fatigueFactor(s);
    if (phi >= 0.999) return cap;
    return clamp(1 + Math.floor(Math.log(floor) / Math.log(phi)), 1, cap);
  }

  /** P(open) of a push on `ci` with variant arm mean `variantMean` at a slot `relative` to the best. */
  pOpen(
    channelMean: number,
    variantArms: Arms,
    vi: number,
    relative: number,
    fatigue: number,
    load: number,
  ): number {
    let avg = 0;
    for (const m of variantArms.means) avg += m / variantArms.means.length;
    const v = avg > 0 ? (variantArms.means[vi] as number) / avg : 1;
    return clamp(channelMean * v * relative * fatigue ** load, 0, 1);
  }

  /**
   * The cached population distribution and its refresh counter go too, so a restored learner
   * answers exactly like the original until the next refresh.
   */
  private parts(): Float64Array[] {
    return [
      this.popHours,
      this.popDist,
      Float64Array.of(this.popDirty),
      this.channel,
      this.arms,
      this.fatigue,
      this.conv,
    ];
  }

  snapshot(): Float64Array {
    const parts = this.parts();
    const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  restore(a: Float64Array): void {
    const parts = this.parts();
    if (a.length !== parts.reduce((n, p) => n + p.length, 0))
      throw new RangeError('push learner snapshot: wrong size');
    let o = 0;
    for (const p of parts) {
      p.set(a.subarray(o, o + p.length));
      o += p.length;
    }
    this.popDirty = (parts[2] as Float64Array)[0] as number;
  }
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

function halve(a: Float32Array | Float64Array, from: number, n: number): void {
  for (let i = from; i < from + n; i++) a[i] = (a[i] as number) / 2;
}

function halveAbove(v: number, a: Float64Array, from: number, limit: number): void {
  if (v > limit) halve(a, from, 2);
}
