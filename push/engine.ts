import type { ClickEvent, EventType, ItemEvent, ScoredItem } from '../models/event.js';
import { TimerHeap } from '../stream/windowing/timer-heap.js';
import { Attribution } from './attribution.js';
import { NO_BASELINE } from './burst-baseline.js';
import { idempotencyKey, isKnownTimeZone } from './clock.js';
import { scoreCandidate, templateLocale, type DecideContext } from './decide.js';
import { inHoldout } from './holdout.js';
import { ACTIVITY_WEIGHT, PushLearner } from './learner.js';
import { resolvePushOptions, type PushOptions, type PushOverrides } from './options.js';
import { PushRules } from './policy.js';
import { PushUsers } from './push-users.js';
import { hourOfWeek, parseQuiet } from './send-time.js';
import { ItemInfos, decisionRow, recentPush, sentOutput } from './outputs.js';
import {
  AbandonedCartTrigger,
  CatalogTrigger,
  InterestBurstTrigger,
  NewRecommendationTrigger,
  type BurstBaseline,
} from './triggers.js';
import {
  PUSH_TRIGGERS,
  VARIANTS,
  type PreferenceUpdate,
  type PushAction,
  type PushCandidate,
  type PushDecision,
  type PushMessage,
  type PushOutcome,
} from './types.js';
import { USER_BOUNDS, append, noneYet, applyPreference, type UserPushState } from './user-state.js';
import { ByteWriter } from './codec.js';
import { decodeUser, encodeUser, encodeUserTo, packPending, unpackPending } from './user-codec.js';

/**
 * The writer of a batch's changelog records (takeChanges), reused: it keeps the size of the
 * largest batch's records (the users one batch changed, at most pipeline.batchMaxMessages).
 */
const CHANGES = new ByteWriter();

/** What the engine reads from one graph batch. */
export interface PushInput {
  readonly events: readonly ClickEvent[];
  readonly items: readonly ItemEvent[];
  readonly preferences?: readonly PreferenceUpdate[];
  readonly recommendations: readonly {
    readonly userId: string;
    readonly items: readonly ScoredItem[];
    readonly eventTs: number;
  }[];
  readonly watermark: number;
}

export interface PushOutput {
  readonly decisions: PushDecision[];
  /** One per sent decision, same order. */
  readonly messages: PushMessage[];
  /** Attributed opens, clicks and purchases (ClickHouse `push_outcomes`). */
  readonly outcomes: PushOutcome[];
}

/** Item titles, categories and prices for texts: one entry per item, least recent dropped. */
const MAX_ITEM_INFO = 1_000_000;
/** Users whose tidy-up (burst windows, old sends) runs per batch, round robin. */
const TIDY_PER_BATCH = 256;
const DAY_MS = 86_400_000;
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const ACTIVITY: ReadonlySet<EventType> = new Set([
  'view',
  'click',
  'add_to_cart',
  'remove_from_cart',
  'purchase',
]);

/**
 * Push decisioning for one process: triggers, the one scoring step (decide.ts), the rules, the
 * learner and attribution, fed one graph batch at a time and driven by its event-time watermark.
 * Deterministic for a given input order, no I/O: the cross-instance claim happens at the edge
 * (sinks/redis-push-policy.ts). Per-user state is one UserPushState each, bounded by
 * `maxUsers` and `userTtlMs`, and can be snapshotted, restored and forgotten per user.
 */
export class PushEngine {
  readonly options: PushOptions;
  private readonly users: PushUsers;
  private readonly carts: AbandonedCartTrigger;
  private readonly catalog: CatalogTrigger;
  private readonly burst: InterestBurstTrigger;
  private readonly recs: NewRecommendationTrigger;
  private readonly learner: PushLearner;
  private readonly attribution: Attribution;
  private readonly ctx: DecideContext;
  private readonly info = new ItemInfos(MAX_ITEM_INFO);
  /** Pushes waiting for their delivery time (lazily deleted: the user's `pending` is the truth). */
  private readonly scheduled = new TimerHeap<{ userId: string; key: string }>();
  /** For triggers that modify the state they look up (cart deadlines, attribution windows). */
  private readonly stateOf = (u: string): UserPushState | undefined => this.users.get(u, true);
  private readonly readState = (u: string): UserPushState | undefined => this.users.get(u);

  constructor(overrides: PushOverrides = {}, baseline?: BurstBaseline) {
    const o = (this.options = resolvePushOptions(overrides));
    this.learner = new PushLearner(o.hourHalfLifeMs);
    this.ctx = {
      o,
      learner: this.learner,
      rules: new PushRules(o),
      quiet: parseQuiet(o.quietHours),
    };
    this.carts = new AbandonedCartTrigger(o.abandonedCartDelayMs);
    this.catalog = new CatalogTrigger({
      minDropPct: o.priceDropMinPct,
      interestTtlMs: o.interestTtlMs,
    });
    this.burst = new InterestBurstTrigger(baseline ?? NO_BASELINE, {
      windowMs: o.burstWindowMs,
      minEvents: o.burstMinEvents,
      ratio: o.burstRatio,
    });
    this.recs = new NewRecommendationTrigger({
      minScore: o.recommendationMinScore,
      maxItems: o.maxItems,
    });
    this.attribution = new Attribution(this.learner, o.attributionWindowMs);
    this.users = new PushUsers(o.maxUsers, o.userTtlMs, (u, s) => this.catalog.dropUser(u, s));
  }

  /** Whether the user is in the stable holdout group (no pushes). */
  isHoldout(userId: string): boolean {
    return inHoldout(userId, this.options.holdout.fraction, this.options.holdout.salt);
  }

  /** Users with push state (bounded by `maxUsers`). */
  get userCount(): number {
    return this.users.size;
  }

  process(input: PushInput): PushOutput {
    const out: PushOutput = { decisions: [], messages: [], outcomes: [] };
    if (!this.options.enabled) return out;
    const due: { c: PushCandidate; at: number; key?: string }[] = [];
    const add = (c: PushCandidate | undefined): void => {
      if (c) due.push({ c, at: c.ts });
    };
    // Catalog updates, preferences and events in event-time order (ties: catalog, preferences,
    // events), so a view before a price drop counts and a consent change applies from its ts.
    const { events, items } = input;
    const prefs = input.preferences ?? [];
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < events.length || j < items.length || k < prefs.length) {
      const te = i < events.length ? (events[i] as ClickEvent).ts : Infinity;
      const ti = j < items.length ? (items[j] as ItemEvent).ts : Infinity;
      const tp = k < prefs.length ? (prefs[k] as PreferenceUpdate).ts : Infinity;
      if (ti <= tp && ti <= te) {
        const item = items[j++] as ItemEvent;
        this.observeCatalog(item);
        for (const c of this.catalog.onItem(item, this.readState)) add(c);
      } else if (tp <= te) {
        const p = prefs[k++] as PreferenceUpdate;
        applyPreference(this.users.touch(p.userId, p.ts), p);
      } else {
        add(this.observeEvent(events[i++] as ClickEvent, out));
      }
    }
    for (const r of input.recommendations)
      add(this.recs.observe(r.userId, r.items, r.eventTs, this.users.touch(r.userId, r.eventTs)));
    for (const c of this.carts.advance(input.watermark, this.stateOf)) add(c);
    while (this.scheduled.size > 0 && this.scheduled.peekTime() <= input.watermark) {
      const at = this.scheduled.peekTime();
      const { userId, key } = this.scheduled.pop();
      const p = this.users.get(userId)?.pending.find((x) => x.key === key);
      if (p) due.push({ c: unpackPending(p).c, at, key });
    }
    // A total order that does not depend on how the candidates were collected (index and heap
    // order differ after a restore), so a restored or replaying instance decides the same.
    due.sort(
      (a, b) =>
        a.at - b.at ||
        cmp(a.c.userId, b.c.userId) ||
        PUSH_TRIGGERS.indexOf(a.c.trigger) - PUSH_TRIGGERS.indexOf(b.c.trigger) ||
        cmp(a.c.itemId, b.c.itemId) ||
        cmp(a.key ?? '', b.key ?? ''),
    );
    for (const d of due) {
      if (d.key === undefined) this.decide(d.c, d.at, out);
      else this.deliverPending(d.c.userId, d.key, out);
    }
    this.attribution.advance(input.watermark, this.stateOf);
    this.tidyUp(input.watermark);
    return out;
  }

  /**
   * A catalog fact for what pushes show (title, category, price), without its triggers: how an
   * instance learns the items whose `items` partition another member owns (catalog-replica.ts).
   */
  observeCatalog(item: ItemEvent): void {
    const st = this.info.of(item.itemId);
    if (item.title !== undefined) st.title = item.title;
    if (item.category !== undefined) st.category = item.category;
    if (item.price !== undefined) st.price = item.price;
  }

  private observeEvent(e: ClickEvent, out: PushOutput): PushCandidate | undefined {
    const s = this.users.touch(e.userId, e.ts);
    const tz = e.props?.tz;
    if (!s.tzPinned && typeof tz === 'string' && tz.length <= 64 && isKnownTimeZone(tz)) s.tz = tz;
    // Titles, prices and categories shown in pushes come from the catalog (`items`) only: a
    // click's props must never fill what another user's notification says (issue 12).
    const category = e.category ?? this.info.get(e.itemId)?.category;
    const zone = s.tz ?? this.options.quietHours.timeZone;
    if (ACTIVITY.has(e.type))
      this.learner.observeHour(s, hourOfWeek(e.ts, zone), ACTIVITY_WEIGHT, e.ts);
    if (e.type === 'purchase')
      for (const p of s.pending)
        if (unpackPending(p).c.itemIds.includes(e.itemId)) p.bought = append(p.bought, e.itemId);
    this.attribution.observe(
      e,
      s,
      zone,
      templateLocale(s, this.options.defaultLocale),
      out.outcomes,
    );
    this.carts.observe(e, s);
    this.catalog.observe(e, s);
    // A user's dead burst windows go when they come back, not only when the tidy-up reaches them.
    this.burst.sweep(s, e.ts);
    return this.burst.observe(e, category, s);
  }

  private decide(c: PushCandidate, at: number, out: PushOutput): void {
    const o = this.options;
    const s = this.users.touch(c.userId, at);
    const key = idempotencyKey(c.userId, c.trigger, c.itemId, c.ts);
    const horizon = Math.max(o.frequencyWindowMs, o.abandonedCartDelayMs, o.maxDelayMs, DAY_MS);
    if (s.seenKey(key, at, horizon)) return;
    if (s.holdoutFlag < 0) s.holdoutFlag = this.isHoldout(c.userId) ? 1 : 0;
    const holdout = s.holdoutFlag === 1;
    const tz = s.tz ?? o.quietHours.timeZone;
    const v = scoreCandidate(this.ctx, s, c, at, key, tz, holdout);
    const a = v.action;
    const row = (decision: PushDecision['decision'], reason: string): void => {
      out.decisions.push(decisionRow(c, at, key, decision, reason, c.itemIds, a, holdout));
    };
    const blocked =
      v.blocked ??
      (v.later && !holdout && s.pending.length >= USER_BOUNDS.pending
        ? `pending_limit: ${s.pending.length} pushes already waiting for delivery`
        : undefined);
    if (blocked !== undefined)
      return row('suppressed', holdout ? `holdout: would be suppressed (${blocked})` : blocked);
    // A holdout user's would-be push counts like a real one (cap, cooldown, items, variant), so
    // both groups see the same stream of candidates.
    this.ctx.rules.record(s, c.trigger, a.channel, a.scheduledFor, !holdout);
    // as a Set's delete and add would: pushed again moves last, the oldest go beyond the bound
    let pushed = s.pushedItems ?? [];
    for (const id of c.itemIds) {
      const at = pushed.indexOf(id);
      if (at >= 0) pushed.splice(at, 1);
      pushed = append(pushed, id);
    }
    if (pushed.length > USER_BOUNDS.pushedItems)
      pushed.splice(0, pushed.length - USER_BOUNDS.pushedItems);
    s.pushedItems = pushed;
    s.lastVariant = VARIANTS.indexOf(a.variant);
    s.lastVariantTs = a.scheduledFor;
    if (holdout) {
      this.attribution.deliver(c.userId, s, recentPush(key, c, a, c.itemIds, true), a.locale);
      return row('suppressed', `holdout: would send ${a.summary}`);
    }
    if (!v.later) return this.send(s, c, key, a, c.itemIds, out);
    s.pending = append(s.pending, { key, packed: packPending(c, a), bought: noneYet() });
    this.scheduled.push(a.scheduledFor, { userId: c.userId, key });
    row(
      'deferred',
      v.laterCode === 'quiet_hours'
        ? `quiet_hours: until ${new Date(a.scheduledFor).toISOString()} (${tz}); ${a.summary}`
        : `scheduled: ${a.summary}`,
    );
  }

  private deliverPending(userId: string, key: string, out: PushOutput): void {
    const s = this.users.get(userId, true);
    const i = s?.pending.findIndex((p) => p.key === key) ?? -1;
    if (!s || i < 0) return;
    const [p] = s.pending.splice(i, 1);
    if (!p) return;
    const { c, action: a } = unpackPending(p);
    const left = c.itemIds.filter((id) => !p.bought.includes(id));
    if (left.length === 0) {
      const reason = 'stale: bought while waiting';
      out.decisions.push(
        decisionRow(c, a.scheduledFor, key, 'suppressed', reason, c.itemIds, a, false),
      );
      return;
    }
    this.send(s, c, key, a, left, out);
  }

  private send(
    s: UserPushState,
    c: PushCandidate,
    key: string,
    a: PushAction,
    itemIds: readonly string[],
    out: PushOutput,
  ): void {
    const sent = sentOutput(c, key, a, itemIds, this.info, this.options);
    out.decisions.push(sent.row);
    out.messages.push(sent.message);
    this.attribution.deliver(c.userId, s, recentPush(key, c, a, sent.items, false), a.locale);
  }

  /** Expired users go; a slice of the others drops dead burst windows and old sends. */
  private tidyUp(watermark: number): void {
    if (!Number.isFinite(watermark)) return;
    this.users.sweep(watermark);
    for (let n = 0; n < TIDY_PER_BATCH; n++) {
      const s = this.users.tidyNext();
      if (!s) return;
      this.burst.sweep(s, watermark);
      const from = watermark - 2 * this.options.frequencyWindowMs;
      let drop = 0;
      while (drop < s.sent.length && (s.sent[drop] as number) <= from) drop++;
      if (drop > 0) {
        s.sent.splice(0, drop);
        s.sentChannels.splice(0, drop);
      }
    }
  }

  /** One user's push state as bytes (user-state.ts), or undefined when there is none. */
  snapshotUser(userId: string): Uint8Array | undefined {
    const s = this.users.get(userId);
    return s ? encodeUser(s) : undefined;
  }

  /** Remembers whose state changes (takeChanges): `run`'s changelog (push-changelog.ts). */
  trackChanges(): void {
    this.users.trackChanges();
  }

  /**
   * The users whose state changed since the last call, each with its bytes (snapshotUser), or
   * undefined when the user's state went (expired, evicted, erased): a tombstone.
   */
  takeChanges(): { userId: string; bytes: Uint8Array | undefined }[] {
    const ids = this.users.takeChanged();
    if (ids.length === 0) return [];
    const w = CHANGES.reset();
    // ends[i] < 0: the user went (a tombstone)
    const ends = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const s = this.users.get(ids[i] as string);
      if (s) encodeUserTo(w, s);
      ends[i] = s ? w.length : -1;
    }
    const all = w.done();
    let from = 0;
    return ids.map((userId, i) => {
      const end = ends[i] as number;
      if (end < 0) return { userId, bytes: undefined };
      const bytes = all.subarray(from, end);
      from = end;
      return { userId, bytes };
    });
  }

  /**
   * Drops users from this process only (their partition moved to another instance): no
   * tombstone, the changelog keeps their state for the new owner.
   */
  releaseUsers(userIds: Iterable<string>): void {
    for (const u of userIds) {
      this.users.delete(u);
      this.users.unmark(u);
    }
  }

  /** Replaces the user's state by a snapshot and re-arms its timers and indexes. */
  restoreUser(userId: string, bytes: Uint8Array): void {
    const s = decodeUser(bytes);
    this.users.set(userId, s);
    this.users.unmark(userId);
    this.catalog.reindex(userId, s);
    this.carts.rearm(userId, s);
    this.attribution.rearm(userId, s);
    for (const p of s.pending)
      this.scheduled.push(unpackPending(p).action.scheduledFor, { userId, key: p.key });
  }

  /** Erases everything about the user; their timers are skipped when they come due. */
  forgetUser(userId: string): boolean {
    return this.users.delete(userId);
  }

  /** The population statistics (no user ids in them), for snapshots. */
  snapshotLearner(): Float64Array {
    return this.learner.snapshot();
  }

  restoreLearner(a: Float64Array): void {
    this.learner.restore(a);
  }
}
