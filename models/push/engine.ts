import type { ClickEvent, EventType, ItemEvent, ScoredItem } from '../event.js';
import type { FeatureStore } from '../features/feature-store.js';
import { TimerHeap } from '../windowing/timer-heap.js';
import { idempotencyKey, isKnownTimeZone } from './clock.js';
import { resolvePushOptions, type PushOptions, type PushOverrides } from './options.js';
import { PushPolicy } from './policy.js';
import { renderPayload, type TemplateItem } from './templates.js';
import {
  AbandonedCartTrigger,
  CatalogTrigger,
  InterestBurstTrigger,
  NewRecommendationTrigger,
  type BurstBaseline,
} from './triggers.js';
import type { PushCandidate, PushDecision, PushMessage } from './types.js';

/** What the engine reads from one graph batch. */
export interface PushInput {
  readonly events: readonly ClickEvent[];
  readonly items: readonly ItemEvent[];
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
}

interface ItemInfo {
  title?: string;
  category?: string;
  price?: number;
}

interface Deferred {
  readonly c: PushCandidate;
  readonly key: string;
}

/** The burst trigger's baseline from the feature store's decayed category affinity. */
export function featureStoreBaseline(store: FeatureStore): BurstBaseline {
  return {
    halfLifeMs: store.config.affinityHalfLifeMs,
    weight: (type: EventType) => store.config.eventWeights[type],
    affinity: (userId, category, asOf) =>
      store.userFeatures(userId, asOf)?.categoryAffinity.find((a) => a.category === category)
        ?.score ?? 0,
  };
}

/**
 * Push decisioning for one process: the triggers, the policy and the templates, fed one graph
 * batch at a time and driven by its event-time watermark. Deterministic for a given input order,
 * no I/O: the cross-instance claim happens at the edge (sinks/redis-push-policy.ts).
 */
export class PushEngine {
  readonly options: PushOptions;
  private readonly carts: AbandonedCartTrigger;
  private readonly catalog: CatalogTrigger;
  private readonly burst: InterestBurstTrigger;
  private readonly recs: NewRecommendationTrigger;
  private readonly policy: PushPolicy;
  private readonly info = new Map<string, ItemInfo>();
  private readonly zones = new Map<string, string>();
  private readonly deferred = new TimerHeap<Deferred>();
  /** Keys decided for good (sent or suppressed) or waiting deferred: a repeat is no new push. */
  private readonly decided = new Map<string, number>();
  /** Items bought by users with a deferred push, so a push about them can be dropped. */
  private readonly watched = new Map<string, Set<string>>();
  private nextSweep = -Infinity;

  constructor(overrides: PushOverrides = {}, baseline?: BurstBaseline) {
    const o = (this.options = resolvePushOptions(overrides));
    this.policy = new PushPolicy(o);
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
    this.recs = new NewRecommendationTrigger(
      { minScore: o.recommendationMinScore, maxItems: o.maxItems },
      (u, i) => this.policy.pushedBefore(u, i),
    );
  }

  process(input: PushInput): PushOutput {
    const out: PushOutput = { decisions: [], messages: [] };
    if (!this.options.enabled) return out;
    const due: { c: PushCandidate; at: number; key?: string }[] = [];
    const add = (c: PushCandidate | undefined): void => {
      if (c) due.push({ c, at: c.ts });
    };
    // Catalog updates and events in event-time order, so a view before a price drop counts.
    const { events, items } = input;
    let i = 0;
    let j = 0;
    while (i < events.length || j < items.length) {
      if (j >= items.length || (i < events.length && events[i].ts <= items[j].ts)) {
        add(this.observeEvent(events[i++]));
      } else {
        const item = items[j++];
        const st = this.itemInfo(item.itemId);
        if (item.title !== undefined) st.title = item.title;
        if (item.category !== undefined) st.category = item.category;
        if (item.price !== undefined) st.price = item.price;
        for (const c of this.catalog.onItem(item)) add(c);
      }
    }
    for (const r of input.recommendations) add(this.recs.observe(r.userId, r.items, r.eventTs));
    for (const c of this.carts.advance(input.watermark)) add(c);
    while (this.deferred.size > 0 && this.deferred.peekTime() <= input.watermark) {
      const at = this.deferred.peekTime();
      const d = this.deferred.pop();
      due.push({ c: d.c, at, key: d.key });
    }
    due.sort((a, b) => a.at - b.at);
    for (const d of due) this.decide(d.c, d.at, d.key, out);
    this.sweep(input.watermark);
    return out;
  }

  private observeEvent(e: ClickEvent): PushCandidate | undefined {
    const tz = e.props?.tz;
    if (typeof tz === 'string' && tz.length <= 64 && isKnownTimeZone(tz))
      this.zones.set(e.userId, tz);
    // Titles, prices and categories shown in pushes come from the catalog (`items`) only: a
    // click's props must never fill what another user's notification says (issue 12).
    const category = e.category ?? this.info.get(e.itemId)?.category;
    if (e.type === 'purchase') this.watched.get(e.userId)?.add(e.itemId);
    this.carts.observe(e);
    this.catalog.observe(e);
    return this.burst.observe(e, category);
  }

  private decide(
    c: PushCandidate,
    at: number,
    deferredKey: string | undefined,
    out: PushOutput,
  ): void {
    const key = deferredKey ?? idempotencyKey(c.userId, c.trigger, c.itemId, c.ts);
    if (deferredKey === undefined && this.decided.has(key)) return;
    this.decided.set(key, at);
    let itemIds = c.itemIds;
    if (deferredKey !== undefined) {
      // Items bought while the push waited out quiet hours are no reason to notify any more.
      const bought = this.watched.get(c.userId);
      itemIds = itemIds.filter((id) => !bought?.has(id));
      if (itemIds.length === 0) {
        out.decisions.push(
          this.row(c, at, key, 'suppressed', 'stale: bought while deferred', c.itemIds),
        );
        return;
      }
    }
    const tz = this.zones.get(c.userId) ?? this.options.quietHours.timeZone;
    const v = this.policy.decide(c.userId, c.trigger, itemIds, at, tz);
    if (v.decision === 'deferred') {
      this.deferred.push(v.until as number, { c, key });
      if (!this.watched.has(c.userId)) this.watched.set(c.userId, new Set());
      out.decisions.push(this.row(c, at, key, 'deferred', v.reason, itemIds));
      return;
    }
    if (v.decision === 'suppressed') {
      out.decisions.push(this.row(c, at, key, 'suppressed', v.reason, itemIds));
      return;
    }
    const shown: TemplateItem[] = itemIds.slice(0, this.options.maxItems).map((id) => {
      const st = this.info.get(id);
      return {
        itemId: id,
        title: st?.title ?? id,
        ...(st?.price !== undefined && { price: st.price }),
      };
    });
    const payload = JSON.stringify(
      renderPayload({
        userId: c.userId,
        trigger: c.trigger,
        items: shown,
        ...(c.vars && { vars: c.vars }),
        idempotencyKey: key,
        createdAt: at,
        ttlMs: this.options.ttlMs,
        deepLink: this.options.deepLink,
      }),
    );
    const row = this.row(
      c,
      at,
      key,
      'sent',
      `fired: ${c.detail}`,
      shown.map((s) => s.itemId),
    );
    out.decisions.push({ ...row, payload });
    out.messages.push({
      idempotencyKey: key,
      key: c.userId,
      value: payload,
      headers: { trigger: c.trigger, 'idempotency-key': key },
    });
  }

  private row(
    c: PushCandidate,
    at: number,
    key: string,
    decision: PushDecision['decision'],
    reason: string,
    items: readonly string[],
  ): PushDecision {
    return {
      userId: c.userId,
      trigger: c.trigger,
      decision,
      reason,
      ts: at,
      items,
      idempotencyKey: key,
    };
  }

  private itemInfo(itemId: string): ItemInfo {
    let st = this.info.get(itemId);
    if (!st) this.info.set(itemId, (st = {}));
    return st;
  }

  /** Bounded memory: dedupe keys older than every window, idle burst state, unneeded watches. */
  private sweep(watermark: number): void {
    if (!(watermark >= this.nextSweep)) return;
    const o = this.options;
    this.nextSweep = watermark + 10 * 60_000;
    const keep = Math.max(o.frequencyWindowMs, o.abandonedCartDelayMs, DAY_MS);
    for (const [k, at] of this.decided) if (at < watermark - keep) this.decided.delete(k);
    this.burst.sweep(watermark);
    if (this.deferred.size === 0) this.watched.clear();
  }
}

const DAY_MS = 86_400_000;

const NO_BASELINE: BurstBaseline = {
  halfLifeMs: 7 * DAY_MS,
  weight: (t) => (t === 'remove_from_cart' ? -1 : 1),
  affinity: () => 0,
};
