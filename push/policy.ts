import type { PushOptions } from './options.js';
import { CHANNELS, PUSH_TRIGGERS, type Channel, type PushTrigger } from './types.js';
import type { UserPushState } from './user-state.js';

const COOLDOWN_KEY: Readonly<Record<PushTrigger, keyof PushOptions['cooldownMs']>> = {
  abandoned_cart: 'abandonedCart',
  price_drop: 'priceDrop',
  back_in_stock: 'backInStock',
  interest_burst: 'interestBurst',
  new_recommendation: 'newRecommendation',
};

export const cooldownOf = (o: PushOptions, trigger: PushTrigger): number =>
  o.cooldownMs[COOLDOWN_KEY[trigger]];

export const hours = (ms: number): string => `${+(ms / 3_600_000).toFixed(2)} h`;

/**
 * The fixed rules of the push policy, judged on event time at the push's delivery time so a
 * replay decides the same way: the frequency cap over a rolling window (the user's learned cap
 * when lower), per-channel caps, per-trigger cooldowns and a global rate per event-time minute.
 * Only sent (and holdout would-be) pushes consume them; their state lives in UserPushState, except
 * the global per-minute counts (at most the last 24 h of minutes with sends, swept hourly).
 * `sinks/redis-push-policy.ts` re-checks cap, cooldown and rate across instances.
 */
export class PushRules {
  private readonly perMinute = new Map<number, number>();
  private sweepAt = -Infinity;

  constructor(private readonly o: PushOptions) {}

  /** Sent pushes in (at − window, at + window) per channel and in total, around delivery time `at`. */
  load(s: UserPushState, at: number): { total: number; before: number; perChannel: number[] } {
    const w = this.o.frequencyWindowMs;
    const perChannel = CHANNELS.map(() => 0);
    let total = 0;
    let before = 0;
    for (let i = 0; i < s.sent.length; i++) {
      const t = s.sent[i] as number;
      // The cap is rolling: a push at t counts for every window containing both t and `at`.
      if (t > at - w && t < at + w) {
        total++;
        const c = s.sentChannels[i] as number;
        if (c >= 0) perChannel[c] = (perChannel[c] as number) + 1;
      }
      if (t > at - w && t <= at) before++;
    }
    return { total, before, perChannel };
  }

  /** Channels the user consented to whose channel cap is not reached at `at`. */
  eligibleChannels(s: UserPushState, perChannel: readonly number[]): boolean[] {
    return CHANNELS.map(
      (c, i) =>
        (s.channelMask & (1 << i)) !== 0 && (perChannel[i] as number) < this.o.channelCaps[c],
    );
  }

  /** The first rule that stops a push to the user at `at`, as `code: detail`, or undefined. */
  check(
    s: UserPushState,
    trigger: PushTrigger,
    at: number,
    total: number,
    cap: number,
    countsRate: boolean,
  ): string | undefined {
    const o = this.o;
    if (total >= cap)
      return `frequency_cap: ${total} sent within ${hours(o.frequencyWindowMs)}${cap < o.frequencyCap ? ` (learned cap ${cap} for this user)` : ''}`;
    const last = s.lastByTrigger?.[PUSH_TRIGGERS.indexOf(trigger)];
    const cooldown = cooldownOf(o, trigger);
    if (last !== undefined && !Number.isNaN(last) && Math.abs(at - last) < cooldown)
      return `cooldown: ${trigger} sent ${hours(Math.abs(at - last))} apart, cooldown ${hours(cooldown)}`;
    if (countsRate) {
      const minute = Math.floor(at / 60_000);
      const used = this.perMinute.get(minute) ?? 0;
      if (used >= o.globalRatePerMinute)
        return `rate_limit: ${used} sent in minute ${new Date(minute * 60_000).toISOString()}`;
    }
    return undefined;
  }

  /** Consumes cap, channel cap, cooldown and (for real sends) the minute's rate. */
  record(
    s: UserPushState,
    trigger: PushTrigger,
    channel: Channel | '',
    at: number,
    countsRate: boolean,
  ): void {
    const keepFrom = at - 2 * this.o.frequencyWindowMs;
    let i = 0;
    while (i < s.sent.length && (s.sent[i] as number) <= keepFrom) i++;
    if (i > 0) {
      s.sent.splice(0, i);
      s.sentChannels.splice(0, i);
    }
    const ch = channel === '' ? -1 : CHANNELS.indexOf(channel);
    // Most users have one send in the window: literals of one, where splice into an empty
    // array would reserve 17 slots each.
    if (s.sent.length === 0) {
      s.sent = [at];
      s.sentChannels = [ch];
    } else {
      let j = s.sent.length;
      while (j > 0 && (s.sent[j - 1] as number) > at) j--;
      s.sent.splice(j, 0, at);
      s.sentChannels.splice(j, 0, ch);
    }
    const last = (s.lastByTrigger ??= new Array<number>(PUSH_TRIGGERS.length).fill(NaN));
    const ti = PUSH_TRIGGERS.indexOf(trigger);
    const prev = last[ti] as number;
    if (Number.isNaN(prev) || at > prev) last[ti] = at;
    if (!countsRate) return;
    const minute = Math.floor(at / 60_000);
    this.perMinute.set(minute, (this.perMinute.get(minute) ?? 0) + 1);
    if (at >= this.sweepAt) {
      this.sweepAt = at + 3_600_000;
      for (const m of this.perMinute.keys()) if (m < minute - 24 * 60) this.perMinute.delete(m);
    }
  }
}
