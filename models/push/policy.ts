import { parseHhmm, quietUntil, type QuietHours } from './clock.js';
import type { PushOptions } from './options.js';
import type { PushDecisionKind, PushTrigger } from './types.js';

export interface PolicyVerdict {
  readonly decision: PushDecisionKind;
  /** `code: detail`, e.g. `frequency_cap: 3 sent in the last 24 h`. */
  readonly reason: string;
  /** For a deferred push: the event time it is decided again at. */
  readonly until?: number;
}

interface UserState {
  /** Event times of sent pushes, ascending (at most `frequencyCap` kept in the window). */
  sent: number[];
  lastByTrigger: Map<PushTrigger, number>;
}

const COOLDOWN_KEY: Readonly<Record<PushTrigger, keyof PushOptions['cooldownMs']>> = {
  abandoned_cart: 'abandonedCart',
  price_drop: 'priceDrop',
  back_in_stock: 'backInStock',
  interest_burst: 'interestBurst',
  new_recommendation: 'newRecommendation',
};

export const cooldownOf = (o: PushOptions, trigger: PushTrigger): number =>
  o.cooldownMs[COOLDOWN_KEY[trigger]];

const hours = (ms: number): string => `${+(ms / 3_600_000).toFixed(2)} h`;

/**
 * The in-process push policy, judged entirely on event time so a replay decides the same way:
 * quiet hours (defer), frequency cap over a rolling window, per-trigger cooldown, and a global
 * rate per event-time minute (suppress). Only sent pushes consume cap, cooldown and rate. The
 * state here is one instance's view; `sinks/redis-push-policy.ts` re-checks the same rules
 * atomically across instances before anything is produced.
 */
export class PushPolicy {
  private readonly users = new Map<string, UserState>();
  private readonly perMinute = new Map<number, number>();
  /** Items pushed per user, for "never pushed before"; bounded per user, oldest dropped. */
  private readonly pushed = new Map<string, Set<string>>();
  private readonly quiet: QuietHours;
  private sweepAt = -Infinity;

  constructor(
    private readonly opts: PushOptions,
    private readonly maxItemsPerUser = 256,
  ) {
    this.quiet = {
      startMs: parseHhmm(opts.quietHours.start),
      endMs: parseHhmm(opts.quietHours.end),
    };
  }

  pushedBefore(userId: string, itemId: string): boolean {
    return this.pushed.get(userId)?.has(itemId) ?? false;
  }

  /**
   * Decides one candidate at event time `at` for a user in zone `tz`; a `sent` verdict is
   * recorded against the user's cap and cooldown and the minute's rate.
   */
  decide(
    userId: string,
    trigger: PushTrigger,
    itemIds: readonly string[],
    at: number,
    tz: string,
  ): PolicyVerdict {
    const o = this.opts;
    const until = quietUntil(at, tz, this.quiet);
    if (until !== undefined)
      return {
        decision: 'deferred',
        reason: `quiet_hours: until ${new Date(until).toISOString()} (${tz})`,
        until,
      };
    const st = this.users.get(userId);
    if (st) {
      const from = at - o.frequencyWindowMs;
      let n = 0;
      for (const t of st.sent) if (t > from) n++;
      if (n >= o.frequencyCap)
        return {
          decision: 'suppressed',
          reason: `frequency_cap: ${n} sent in the last ${hours(o.frequencyWindowMs)}`,
        };
      const last = st.lastByTrigger.get(trigger);
      const cooldown = cooldownOf(o, trigger);
      if (last !== undefined && Math.abs(at - last) < cooldown)
        return {
          decision: 'suppressed',
          reason: `cooldown: ${trigger} sent ${hours(Math.abs(at - last))} apart, cooldown ${hours(cooldown)}`,
        };
    } else if (o.frequencyCap === 0) {
      return { decision: 'suppressed', reason: 'frequency_cap: the cap is 0' };
    }
    const minute = Math.floor(at / 60_000);
    const used = this.perMinute.get(minute) ?? 0;
    if (used >= o.globalRatePerMinute)
      return {
        decision: 'suppressed',
        reason: `rate_limit: ${used} sent in minute ${new Date(minute * 60_000).toISOString()}`,
      };
    this.record(userId, trigger, itemIds, at, minute, used);
    return { decision: 'sent', reason: 'fired' };
  }

  private record(
    userId: string,
    trigger: PushTrigger,
    itemIds: readonly string[],
    at: number,
    minute: number,
    used: number,
  ): void {
    let st = this.users.get(userId);
    if (!st) this.users.set(userId, (st = { sent: [], lastByTrigger: new Map() }));
    const from = at - this.opts.frequencyWindowMs;
    st.sent = st.sent.filter((t) => t > from);
    st.sent.push(at);
    st.sent.sort((a, b) => a - b);
    const last = st.lastByTrigger.get(trigger);
    if (last === undefined || at > last) st.lastByTrigger.set(trigger, at);
    this.perMinute.set(minute, used + 1);
    let items = this.pushed.get(userId);
    if (!items) this.pushed.set(userId, (items = new Set()));
    for (const i of itemIds) {
      items.delete(i);
      items.add(i);
    }
    while (items.size > this.maxItemsPerUser) items.delete(items.values().next().value as string);
    this.sweep(at);
  }

  /** Forgets users with nothing left in any window, and past minutes; at most once a minute. */
  private sweep(at: number): void {
    if (at < this.sweepAt) return;
    this.sweepAt = at + 60_000;
    const o = this.opts;
    const keep = Math.max(o.frequencyWindowMs, ...Object.values(o.cooldownMs));
    for (const [u, st] of this.users) {
      let latest = -Infinity;
      for (const t of st.lastByTrigger.values()) latest = Math.max(latest, t);
      if (latest < at - keep) this.users.delete(u);
    }
    const minute = Math.floor(at / 60_000);
    for (const m of this.perMinute.keys()) if (m < minute - 60) this.perMinute.delete(m);
  }
}
