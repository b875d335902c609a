import { Subject } from 'rxjs';
import { FeatureStore } from '../../features/feature-store.js';
import { PushEngine } from '../../push/engine.js';
import { featureStoreBaseline } from '../../push/burst-baseline.js';
import type { PushOverrides } from '../../push/options.js';
import {
  upliftTotal,
  type DecisionFact,
  type PurchaseFact,
  type UpliftTotal,
} from '../../push/uplift.js';
import { PurchaseHistory } from '../../models/purchase-history.js';
import { createRecommender } from '../../models/registry.js';
import { TimerHeap } from '../../stream/windowing/timer-heap.js';
import type { Batch, GraphBatch, RawMessage } from '../../operators/types.js';
import { recpipeGraph } from '../graph.js';
import { SIM_START, World, type SimMessage, type WorldOptions } from './world.js';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
/** Simulated time per graph batch: shorter than the 5-minute minimum reaction lag. */
const STEP = 15 * MIN;
const TOPICS = { clicks: 'sim-clicks', items: 'sim-items', prefs: 'sim-preferences' } as const;

export interface SimulateOptions {
  readonly world?: Partial<WorldOptions>;
  readonly policy: 'static' | 'learned';
  /** Push settings on top of the defaults (the policy above wins). */
  readonly push?: PushOverrides;
  /** Recommender of the graph; `popular` keeps a 20,000-user month fast. */
  readonly model?: string;
  /** Called once per simulated day with the day index. */
  readonly onDay?: (day: number) => void;
  /** Called for every sent push with what it logged and how the user reacted (evaluate-policy input). */
  readonly onSent?: (row: LoggedPush) => void;
}

/** One sent push as logged, its outcome, and the simulator's truth for every variant. */
export interface LoggedPush {
  readonly push_id: string;
  readonly user_id: string;
  readonly trigger: string;
  readonly locale: string;
  readonly channel: string;
  readonly variant: string;
  readonly propensity: number;
  readonly variant_propensity: number;
  readonly scheduled_for: number;
  readonly opened: 0 | 1;
  readonly converted: 0 | 1;
  readonly true_open: readonly number[];
}

export interface SimReport {
  readonly policy: 'static' | 'learned';
  readonly users: number;
  readonly days: number;
  readonly seed: number;
  readonly events: number;
  readonly seconds: number;
  readonly treatedUsers: number;
  readonly sent: number;
  readonly opens: number;
  readonly pushConversions: number;
  readonly pushesPerUser: number;
  readonly opensPerPush: number;
  readonly conversionsPerPush: number;
  /** Expected opens per push under the simulator's own probabilities (less noisy). */
  readonly expectedOpensPerPush: number;
  /** Share of sent pushes delivered at the preferred hour (± the hit window), on the preferred channel. */
  readonly hourHitRate: number;
  readonly channelHitRate: number;
  readonly decisions: Record<string, number>;
  readonly channels: Record<string, number>;
  readonly variants: Record<string, number>;
  readonly uplift: UpliftTotal;
  /** The same estimator over organic purchases only: an A/A check, its CI should cover 0. */
  readonly placebo: UpliftTotal;
  /** The simulator's true incremental purchases per eligible treated user. */
  readonly trueUplift: number;
  readonly covered: boolean;
}

/**
 * P(a push-driven purchase lands within `ms` after delivery): the open comes 5 + U(0, 30) min
 * after delivery and the purchase 5 + U(0, 30) min after the open (world.ts).
 */
function landsBefore(ms: number): number {
  const x = (ms - 10 * MIN) / (30 * MIN);
  if (x <= 0) return 0;
  if (x <= 1) return (x * x) / 2;
  if (x <= 2) return 1 - ((2 - x) * (2 - x)) / 2;
  return 1;
}

const inc = (m: Record<string, number>, k: string): void => {
  // trusted-key: labels of the engine's own decisions (decision, reason code, channel, variant)
  m[k] = (m[k] ?? 0) + 1;
};

/**
 * One closed-loop month of the synthetic shop through the real graph (recpipeGraph, as replay
 * drives it): organic visits, catalog changes and preferences go in, push decisions come out,
 * the world reacts to each sent push at its delivery time with opens and purchases, and those
 * go back in as events. Everything is seeded: the same options give the same report.
 */
export function simulate(opts: SimulateOptions): SimReport {
  const started = performance.now();
  const world = new World(opts.world);
  const o = world.o;
  // Pushes read only the decayed category affinity from the feature store, so the simulation runs
  // it without the per-user and per-category hopping windows (and the fewest item windows
  // trending allows): the same graph and engine, a third of the work.
  const features = new FeatureStore({
    emitRows: false,
    userWindows: [],
    categoryWindows: [],
    itemWindows: [
      { label: '1h', sizeMs: 60 * MIN, slideMs: 60 * MIN },
      { label: '24h', sizeMs: DAY, slideMs: 60 * MIN },
    ],
  });
  const push = new PushEngine(
    // No recommendation pushes: the simulated shop has no real taste for items to recommend.
    { recommendationMinScore: 1e9, ...opts.push, policy: opts.policy },
    featureStoreBaseline(features),
  );
  const userIndex = (id: string): number => Number(id.slice(1));
  const feedback = new TimerHeap<SimMessage>();
  const decisions: DecisionFact[] = [];
  const purchases: PurchaseFact[] = [];
  /** Purchases that no push caused, and the ids of those a push did (the placebo check). */
  const organic: PurchaseFact[] = [];
  const pushDriven = new Set<string>();
  const counts: Record<string, number> = {};
  const channels: Record<string, number> = {};
  const variants: Record<string, number> = {};
  const truth = new Map<string, number>();
  let sent = 0;
  let opens = 0;
  let conversions = 0;
  let expectedOpens = 0;
  let hourHits = 0;
  let channelHits = 0;
  const end = SIM_START + o.days * DAY;

  const onBatch = (b: GraphBatch): void => {
    for (const { event } of b.events)
      if (event.type === 'purchase') {
        purchases.push({ userId: event.userId, ts: event.ts });
        if (!pushDriven.has(event.eventId)) organic.push({ userId: event.userId, ts: event.ts });
      }
    for (const d of b.pushes ?? []) {
      inc(counts, `${d.decision} ${d.reason.slice(0, d.reason.indexOf(':'))}`);
      decisions.push({ userId: d.userId, trigger: d.trigger, ts: d.ts, holdout: d.holdout });
      if (d.decision !== 'sent') continue;
      const u = userIndex(d.userId);
      const r = world.deliver({
        user: u,
        pushId: d.pushId,
        trigger: d.trigger,
        channel: d.channel,
        variant: d.variant,
        at: d.scheduledFor,
        itemId: d.items[0] ?? 'i0',
      });
      sent++;
      inc(channels, d.channel);
      inc(variants, `${d.trigger}/${d.variant}`);
      expectedOpens += r.pOpen;
      if (r.hourHit) hourHits++;
      if (r.channelHit) channelHits++;
      if (r.opened) opens++;
      if (r.converted) conversions++;
      // Ground truth: the push adds pOpen × pConvOpen purchases, those that land before the end.
      const lands = landsBefore(end - d.scheduledFor);
      truth.set(d.userId, (truth.get(d.userId) ?? 0) + lands * r.pOpen * o.pConvOpen);
      for (const e of r.events) {
        feedback.push(e.ts, e);
        if (e.value.includes('"purchase"'))
          pushDriven.add((JSON.parse(e.value) as { event_id: string }).event_id);
      }
      opts.onSent?.({
        push_id: d.pushId,
        user_id: d.userId,
        trigger: d.trigger,
        locale: d.locale,
        channel: d.channel,
        variant: d.variant,
        propensity: d.propensity,
        variant_propensity: d.variantPropensity,
        scheduled_for: d.scheduledFor,
        opened: r.opened ? 1 : 0,
        converted: r.converted ? 1 : 0,
        true_open: r.pOpenByVariant,
      });
    }
  };

  const input = new Subject<Batch<RawMessage>>();
  const recommender = createRecommender(opts.model ?? 'popular');
  input
    .pipe(
      recpipeGraph({
        recommender,
        history: new PurchaseHistory(),
        features,
        topK: 10,
        dedupeCapacity: 1_000_000,
        itemsTopic: TOPICS.items,
        preferencesTopic: TOPICS.prefs,
        modelVersion: 'sim',
        idlePartitionMs: 0,
        push,
      }),
    )
    .subscribe({ next: onBatch });

  let seq = 0;
  let offset = 0;
  let events = 0;
  const send = (msgs: readonly SimMessage[]): void => {
    for (let i = 0; i < msgs.length; i += 2_000) {
      const items: RawMessage[] = msgs.slice(i, i + 2_000).map((m) => ({
        topic: TOPICS[m.topic],
        partition: 0,
        offset: offset++,
        value: m.value,
        ...(m.key !== undefined && { key: m.key }),
      }));
      events += items.length;
      input.next({ seq: seq++, items, commits: [] });
    }
  };
  send(world.initial());
  for (let d = 0; d < o.days; d++) {
    const day = world.organicDay(d);
    opts.onDay?.(d);
    let k = 0;
    const dayStart = SIM_START + d * DAY;
    for (let t = dayStart; t < dayStart + DAY; t += STEP) {
      const msgs: SimMessage[] = [];
      while (k < day.length && (day[k] as SimMessage).ts < t + STEP)
        msgs.push(day[k++] as SimMessage);
      while (feedback.size > 0 && feedback.peekTime() < t + STEP) msgs.push(feedback.pop());
      msgs.sort((a, b) => a.ts - b.ts);
      if (msgs.length === 0) continue;
      send(msgs);
    }
  }
  input.complete();

  const uplift = upliftTotal(decisions, purchases);
  const treatedEligible = new Set(decisions.filter((d) => !d.holdout).map((d) => d.userId));
  let trueSum = 0;
  for (const [u, v] of truth) if (treatedEligible.has(u)) trueSum += v;
  const trueUplift = trueSum / Math.max(1, treatedEligible.size);
  let treatedUsers = 0;
  for (let u = 0; u < o.users; u++) if (!push.isHoldout(world.userId(u))) treatedUsers++;
  return {
    policy: opts.policy,
    users: o.users,
    days: o.days,
    seed: o.seed,
    events,
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
    treatedUsers,
    sent,
    opens,
    pushConversions: conversions,
    pushesPerUser: sent / treatedUsers,
    opensPerPush: opens / Math.max(1, sent),
    conversionsPerPush: conversions / Math.max(1, sent),
    expectedOpensPerPush: expectedOpens / Math.max(1, sent),
    hourHitRate: hourHits / Math.max(1, sent),
    channelHitRate: channelHits / Math.max(1, sent),
    decisions: counts,
    channels,
    variants,
    uplift,
    placebo: upliftTotal(decisions, organic),
    trueUplift,
    covered: uplift.ciLow <= trueUplift && trueUplift <= uplift.ciHigh,
  };
}
