import { greedyArm, rngForKey, sampleArm, uniformArm, type Arms } from './bandit.js';
import { quietUntil, type QuietHours } from './clock.js';
import { HOUR_PRIOR, LOCALES, type PushLearner } from './learner.js';
import { denseHours } from './hour-counts.js';
import type { PushOptions } from './options.js';
import type { PushRules } from './policy.js';
import { bestSlot, cachedOffset, hourDistribution, type Slot } from './send-time.js';
import { CHANNELS, VARIANTS, type PushAction, type PushCandidate } from './types.js';
import type { UserPushState } from './user-state.js';

/** One scoring step at a time (single thread, synchronous): its hour distribution buffer. */
const DIST = new Float64Array(168);

/** Waiting a day for a better hour costs a push about 30 % of its value (stale news). */
const DELAY_HALF_LIFE_MS = 48 * 3_600_000;

export interface DecideContext {
  readonly o: PushOptions;
  readonly learner: PushLearner;
  readonly rules: PushRules;
  readonly quiet: QuietHours;
}

export interface Scored {
  readonly action: PushAction;
  /** The rule that stops this push (`code: detail`), or undefined when it may go out. */
  readonly blocked?: string;
  /** Delivery later than the trigger time: a `deferred` row now, `sent` at delivery. */
  readonly later: boolean;
  /** `scheduled` (best hour) or `quiet_hours` (the static policy waiting for morning). */
  readonly laterCode: 'scheduled' | 'quiet_hours';
}

/** The template locale of a user: the language of their BCP 47 tag when we have texts for it. */
export function templateLocale(s: UserPushState, fallback: string): string {
  const lang = s.locale?.split('-')[0]?.toLowerCase();
  return lang !== undefined && (LOCALES as readonly string[]).includes(lang) ? lang : fallback;
}

/** Minutes past the hour this user's delayed pushes go out at: 20..39, stable per user. */
function minuteOffset(userId: string): number {
  let h = 0;
  for (let i = 0; i < userId.length; i++) h = (Math.imul(h, 31) + userId.charCodeAt(i)) | 0;
  return 20 + ((h >>> 0) % 20);
}

const pp = (p: number): string => `${p >= 0 ? '+' : '−'}${Math.abs(100 * p).toFixed(1)} pp`;

/**
 * The one scoring step: for a candidate decided at event time `at`, when (the user's best hour
 * within the trigger's delay bound, outside quiet hours), on which channel (Thompson over the
 * consented channels below their caps), with which variant (Thompson with a novelty penalty), at
 * what predicted open and incremental conversion, and whether any rule or the fatigue cost stops
 * it. The static policy takes the same step with fixed choices. Draws come from a generator
 * seeded by the push's key, so a replay decides identically.
 */
export function scoreCandidate(
  ctx: DecideContext,
  s: UserPushState,
  c: PushCandidate,
  at: number,
  key: string,
  tz: string,
  holdout: boolean,
): Scored {
  const { o, learner, rules } = ctx;
  const learned = o.policy === 'learned';
  const rng = rngForKey(key);
  const locale = templateLocale(s, o.defaultLocale);
  const maxDelay = c.trigger === 'abandoned_cart' ? o.abandonedCartMaxDelayMs : o.maxDelayMs;

  let slot: Slot;
  if (learned) {
    const dist = hourDistribution(
      s.personalization && s.hours !== undefined ? denseHours(s.hours) : undefined,
      learner.population,
      HOUR_PRIOR,
      DIST,
    );
    slot = bestSlot({
      at,
      maxDelayMs: maxDelay,
      tz,
      quiet: ctx.quiet,
      dist,
      minuteOffset: minuteOffset(c.userId),
      delayHalfLifeMs: DELAY_HALF_LIFE_MS,
    });
  } else {
    const until = quietUntil(at, tz, ctx.quiet);
    const t = until ?? at;
    slot = {
      at: t,
      relative: 1,
      why: until === undefined ? 'now' : 'after quiet hours',
      localHhmm: localHhmm(t, tz),
    };
  }

  const load = rules.load(s, slot.at);
  const consented = CHANNELS.map((_, i) => (s.channelMask & (1 << i)) !== 0);
  const eligible = rules.eligibleChannels(s, load.perChannel);
  let blocked: string | undefined;
  if (!consented.some(Boolean)) blocked = 'no_channel: the user consented to no channel';
  else if (!eligible.some(Boolean))
    blocked = `channel_cap: ${CHANNELS.filter((_, i) => consented[i])
      .map((ch) => `${ch} ${load.perChannel[CHANNELS.indexOf(ch)]}/${o.channelCaps[ch]}`)
      .join(', ')} within the window`;
  // With every channel blocked the row still names the channel that would have been used.
  const usable = eligible.some(Boolean) ? eligible : consented;

  const chArms = learner.channelArms(s, usable);
  // Greedy on the posterior means (ε-uniform): a user's few pushes a week cannot pay for
  // Thompson's exploration over channels, while the population prior makes a channel that keeps
  // failing fall below the next one after a few sends. Variants below have plenty of data.
  const ch = !usable.some(Boolean)
    ? undefined
    : learned
      ? greedyArm(chArms, rng, o.bandit.epsilon)
      : firstEligible(usable);
  const vArms: Arms = learner.variantArms(s, c.trigger, locale, slot.at, {
    penalty: o.bandit.noveltyPenalty,
    halfLifeMs: o.bandit.noveltyHalfLifeMs,
  });
  const v = learned ? sampleArm(vArms, rng, o.bandit.epsilon) : uniformArm([true, true, true], rng);
  const vi = v?.index ?? 0;
  const channel = ch === undefined ? '' : (CHANNELS[ch.index] ?? '');
  const phi = learner.fatigueFactor(s);
  const pOpen =
    ch === undefined
      ? 0
      : learner.pOpen(chArms.means[ch.index] as number, vArms, vi, slot.relative, phi, load.before);
  const inc = learner.incrementalConversion();
  const uplift = pOpen * Math.max(0, inc.mean);
  // The gate is optimistic (two sd above the mean): with little data pushes still go out and
  // teach the learner; only a confident estimate below the cost stops them.
  const optimistic = pOpen * Math.max(0, inc.mean + 2 * inc.sd);
  const cap = learned ? learner.userCap(s, o.frequencyCap, o.fatigueFloor) : o.frequencyCap;
  blocked ??= rules.check(s, c.trigger, slot.at, load.total, cap, !holdout);
  if (blocked === undefined && learned && 100 * optimistic < o.fatigueCostPp)
    blocked = `low_value: predicted uplift ${pp(uplift)} (open ${(100 * pOpen).toFixed(1)}%, at most ${pp(optimistic)}) below the fatigue cost +${o.fatigueCostPp.toFixed(2)} pp`;

  const how = !learned ? 'uniform' : v?.explored ? 'explore' : 'Thompson';
  const variant = VARIANTS[vi] ?? 'A';
  const summary = `${channel || 'no channel'} at ${slot.localHhmm} local (${learned ? slot.why : slot.why === 'now' ? 'static' : slot.why}), variant ${variant} (${how}), uplift ${pp(uplift)}`;
  return {
    action: {
      channel,
      variant,
      propensity: (ch?.propensity ?? 1) * (v?.propensity ?? 1),
      variantPropensity: v?.propensity ?? 1,
      scheduledFor: slot.at,
      pOpen,
      uplift,
      locale,
      load: load.before,
      summary,
    },
    ...(blocked !== undefined && { blocked }),
    later: slot.at > at,
    laterCode: learned ? 'scheduled' : 'quiet_hours',
  };
}

function firstEligible(eligible: readonly boolean[]): { index: number; propensity: number } {
  return { index: Math.max(0, eligible.indexOf(true)), propensity: 1 };
}

function localHhmm(t: number, tz: string): string {
  const local = t + cachedOffset(t, tz);
  const m = Math.floor((((local % 86_400_000) + 86_400_000) % 86_400_000) / 60_000);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}
