import type { ClickEvent } from '../models/event.js';
import { TimerHeap } from '../stream/windowing/timer-heap.js';
import { OPEN_WEIGHT, type PushLearner } from './learner.js';
import { hourOfWeek } from './send-time.js';
import type { PushOutcome } from './types.js';
import { USER_BOUNDS, append, type RecentPush, type UserPushState } from './user-state.js';

/**
 * Feedback: opens and clicks (`props.push_id`) and purchases within `windowMs` after a delivered
 * push (the push that listed the item, else the user's latest) become `push_outcomes` rows and
 * teach the learner. Holdout users' would-be pushes are kept too, so their purchases give the
 * control group's conversion rate. A push leaves the user's state when its window closes (the
 * settle heap, lazily deleted), which is also when its conversion counts.
 */
export class Attribution {
  private readonly settle = new TimerHeap<{ userId: string; pushId: string }>();

  constructor(
    private readonly learner: PushLearner,
    private readonly windowMs: number,
  ) {}

  get pending(): number {
    return this.settle.size;
  }

  /** A push delivered (or, for a holdout user, the push that would have been) at `p.ts`. */
  deliver(userId: string, s: UserPushState, p: RecentPush, locale: string): void {
    s.recent = append(s.recent, p);
    if (s.recent.length > USER_BOUNDS.recent) {
      const old = s.recent.shift();
      if (old) this.learner.observeSettled(old);
    }
    if (!p.holdout) this.learner.observeSend(s, p, locale);
    this.settle.push(p.ts + this.windowMs, { userId, pushId: p.pushId });
  }

  /** Re-arms the settle timers of a restored user. */
  rearm(userId: string, s: UserPushState): void {
    for (const p of s.recent) this.settle.push(p.ts + this.windowMs, { userId, pushId: p.pushId });
  }

  /** Closes the windows the watermark has passed. */
  advance(watermark: number, stateOf: (userId: string) => UserPushState | undefined): void {
    while (this.settle.size > 0 && this.settle.peekTime() <= watermark) {
      const { userId, pushId } = this.settle.pop();
      const s = stateOf(userId);
      const i = s?.recent.findIndex((p) => p.pushId === pushId) ?? -1;
      if (!s || i < 0) continue;
      const [p] = s.recent.splice(i, 1);
      if (p) this.learner.observeSettled(p);
    }
  }

  /** Opens, clicks and purchases of the event's user, as outcome rows; learning included. */
  observe(e: ClickEvent, s: UserPushState, tz: string, locale: string, out: PushOutcome[]): void {
    if (e.type === 'push_open' || e.type === 'push_click') {
      const id = e.props?.push_id;
      const p = typeof id === 'string' ? s.recent.find((r) => r.pushId === id) : undefined;
      if (!p || p.holdout) return;
      out.push(this.row(e, p, e.type === 'push_open' ? 'open' : 'click', false));
      // A click without a recorded open still means the push was opened.
      if (!p.opened) {
        p.opened = true;
        this.learner.observeOpen(s, p, locale);
        this.learner.observeHour(s, hourOfWeek(e.ts, tz), OPEN_WEIGHT, e.ts);
      }
    } else if (e.type === 'purchase') {
      let best: RecentPush | undefined;
      let match = false;
      for (const p of s.recent) {
        if (p.ts > e.ts || e.ts >= p.ts + this.windowMs) continue;
        const m = p.items.includes(e.itemId);
        if (!best || (m && !match) || (m === match && p.ts >= best.ts)) {
          best = p;
          match = m;
        }
      }
      if (!best) return;
      out.push(this.row(e, best, 'purchase', match));
      best.converted = true;
    }
  }

  private row(
    e: ClickEvent,
    p: RecentPush,
    kind: PushOutcome['kind'],
    match: boolean,
  ): PushOutcome {
    return {
      pushId: p.pushId,
      userId: e.userId,
      kind,
      ts: e.ts,
      eventId: e.eventId,
      itemId: e.itemId,
      trigger: p.trigger,
      channel: p.channel,
      variant: p.variant,
      holdout: p.holdout,
      itemMatch: match,
      pushTs: p.ts,
    };
  }
}
