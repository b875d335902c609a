import { EVENT_TYPES, type ClickEvent, type ItemEvent } from '../event.js';
import { TYPE_CODE } from '../core/weights.js';
import { WindowEngine } from '../windowing/window-engine.js';
import type {
  WindowEngineStats,
  WindowOutput,
  WindowResult,
  WindowSpec,
} from '../windowing/types.js';
import { activityAggregator, EMPTY_ACTIVITY, type Activity, type ActivityAcc } from './activity.js';
import {
  priceBandLabel,
  priceBandOf,
  resolveFeatureConfig,
  type FeatureConfig,
  type WindowDef,
} from './config.js';
import { DecayedScores } from './decayed-scores.js';
import { WindowRows, categoryWindow, itemWindow, pushSessionSet } from './feature-rows.js';
import type {
  CategoryFeatures,
  CategoryWindowFeatures,
  FeatureBatch,
  FeatureEntity,
  FeatureSet,
  FeatureStoreStats,
  ItemFeatures,
  ItemWindowFeatures,
  LateFeatureEvent,
  SessionFeatures,
  UserFeatures,
  UserWindowFeatures,
} from './types.js';

type Engine = WindowEngine<string, ClickEvent, ActivityAcc, Activity>;
type Result = WindowResult<string, Activity>;

interface Family {
  /** `user_5m`, `session`, ... : the late output's family and the stats key. */
  readonly name: string;
  readonly entity: FeatureEntity;
  readonly def: WindowDef | null;
  readonly engine: Engine;
  /** Builds the family's sink rows; null for sessions, whose rows come from closed sessions. */
  readonly rows: WindowRows | null;
}

interface SessionSummary {
  readonly start: number;
  readonly end: number;
  readonly firstTs: number;
  readonly lastTs: number;
  readonly depth: number;
  readonly distinctItems: number;
}

interface UserState {
  lastTs: number;
  lastPurchaseTs: number;
  affinity: DecayedScores | null;
  /** Decayed weight per price band, plus decayed Σ weight·price and Σ weight, as of priceT. */
  priceBands: Float64Array | null;
  priceNum: number;
  priceDen: number;
  priceT: number;
  lastSession: SessionSummary | null;
  /** Categories touched in the batch being ingested; rows are emitted for these only. */
  batchCategories: Set<string> | null;
}

interface ItemState {
  lastTs: number;
  category: string | undefined;
  price: number | undefined;
}

/**
 * In-process feature state over a click stream: windowed counts per user, item and category
 * (WindowEngine families), user sessions, and unwindowed per-user state (recency, decayed
 * category affinity, price band). `ingest` is the write path the graph calls once per batch;
 * `userFeatures` / `itemFeatures` / `categoryFeatures` are the point-in-time reads the
 * recommenders and push triggers use. Reads come from live window state, so they are as fresh
 * as the last ingested batch, not the last fired window. No I/O, no RxJS.
 */
export class FeatureStore {
  readonly config: FeatureConfig;
  private readonly userFams: Family[];
  private readonly itemFams: Family[];
  private readonly categoryFams: Family[];
  private readonly sessionFam: Family;
  private readonly allFams: Family[];
  private readonly shortFam: Family;
  private readonly longFam: Family;
  private readonly users = new Map<string, UserState>();
  private readonly items = new Map<string, ItemState>();
  private readonly weights: Float64Array;
  private wm = -Infinity;
  private maxTs = -Infinity;
  private nextSweepAt = -Infinity;
  /**
   * Keys touched since the last takeChanged, with the span of their events' times. Bound: the
   * keys of one sink interval (cleared by every takeChanged), or of one batch in replay's
   * emitRows=false mode, where nothing is recorded.
   */
  private readonly pending = {
    users: new Map<string, Span>(),
    items: new Map<string, Span>(),
    categories: new Map<string, Span>(),
  };
  private pendingFrom = Infinity;
  private readonly minSlide: number;

  constructor(config: Partial<FeatureConfig> = {}) {
    const c = (this.config = resolveFeatureConfig(config));
    this.weights = new Float64Array(EVENT_TYPES.length);
    for (const t of EVENT_TYPES) this.weights[TYPE_CODE[t]] = c.eventWeights[t];
    const byItem = (e: ClickEvent): string => e.itemId;
    const byUser = (e: ClickEvent): string => e.userId;
    const shortSize = (c.itemWindows.find((w) => w.label === c.trending.short) as WindowDef).sizeMs;
    const hop = (def: WindowDef, tailMs = 0): WindowSpec => ({
      kind: 'hopping',
      size: def.sizeMs,
      slide: def.slideMs,
      emit: 'on-read',
      tailMs,
    });
    const family = (
      entity: FeatureEntity,
      def: WindowDef,
      distinctOf: (e: ClickEvent) => string,
    ): Family => {
      // The long trending window counts its own short tail (FeatureConfig.trending).
      const tail = entity === 'item' && def.label === c.trending.long ? shortSize : 0;
      return {
        name: `${entity}_${def.label}`,
        entity,
        def,
        // On read: rows are built for the keys a batch touches, as of their newest event, and
        // never as windows slide, so an event-time boundary costs no work per key (the panes a
        // boundary closes are dropped on a timer). Readers tell a stale value by its window end.
        engine: this.engine(hop(def, tail), distinctOf, tail),
        rows: new WindowRows(
          entity,
          def.label,
          this.weights,
          tail > 0 ? (recent, total) => this.velocity(recent, total) : undefined,
        ),
      };
    };
    const bySize = (a: WindowDef, b: WindowDef): number => a.sizeMs - b.sizeMs;
    this.userFams = [...c.userWindows].sort(bySize).map((d) => family('user', d, byItem));
    this.itemFams = [...c.itemWindows].sort(bySize).map((d) => family('item', d, byUser));
    this.categoryFams = [...c.categoryWindows]
      .sort(bySize)
      .map((d) => family('category', d, byUser));
    this.sessionFam = {
      name: 'session',
      entity: 'user',
      def: null,
      engine: this.engine({ kind: 'session', gap: c.sessionGapMs }, byItem),
      rows: null,
    };
    this.allFams = [...this.userFams, this.sessionFam, ...this.itemFams, ...this.categoryFams];
    this.minSlide = Math.min(
      ...[...c.userWindows, ...c.itemWindows, ...c.categoryWindows].map((w) => w.slideMs),
    );
    this.shortFam = this.itemFams.find((f) => f.def?.label === c.trending.short) as Family;
    this.longFam = this.itemFams.find((f) => f.def?.label === c.trending.long) as Family;
  }

  get watermark(): number {
    return this.wm;
  }

  get maxEventTs(): number {
    return this.maxTs;
  }

  /**
   * Erases a user (right to erasure): their windows, session, recency, affinity and price state,
   * and their id in the exact distinct-user counts of item and category windows. Event counts
   * and distinct sketches keep the contribution, which names nobody (docs/privacy.md).
   */
  forgetUser(userId: string): boolean {
    let found = this.users.delete(userId);
    this.pending.users.delete(userId);
    for (const f of [...this.userFams, this.sessionFam])
      found = f.engine.removeKey(userId) || found;
    for (const f of [...this.itemFams, ...this.categoryFams])
      f.engine.forEachAggregate((acc) => acc.distinct.forget(userId));
    return found;
  }

  /** Catalog events give items a category and price that click events may lack. */
  observeItem(item: ItemEvent): void {
    const st = this.item(item.itemId, item.ts);
    if (item.category !== undefined) st.category = item.category;
    if (item.price !== undefined) st.price = item.price;
  }

  /**
   * Adds a batch, then advances the watermark to max event time − out-of-orderness once, so all
   * events of the batch are judged against the previous batch's watermark. `watermarkCap` lets
   * a multi-partition source hold the watermark at its slowest active partition.
   *
   * The keys the batch touched are remembered (with `emitRows`) and their values built by
   * `takeChanged`, once per key however many batches touched it since: a sink that writes every
   * second builds a hot key's windows once a second, not once per batch. The returned sets are
   * session closes, plus the pending windows whenever this watermark move would otherwise close
   * one of them before it was read (a backlog batch can span hours of event time).
   */
  ingest(events: readonly ClickEvent[], watermarkCap = Number.POSITIVE_INFINITY): FeatureBatch {
    const emit = this.config.emitRows;
    const p = this.pending;
    for (const e of events) {
      const ts = e.ts;
      if (ts > this.maxTs) this.maxTs = ts;
      const item = this.item(e.itemId, ts);
      if (e.category !== undefined) item.category = e.category;
      if (e.price !== undefined) item.price = e.price;
      const category = e.category ?? item.category;
      for (const f of this.userFams) f.engine.add(e.userId, ts, e);
      this.sessionFam.engine.add(e.userId, ts, e);
      for (const f of this.itemFams) f.engine.add(e.itemId, ts, e);
      if (category !== undefined) for (const f of this.categoryFams) f.engine.add(category, ts, e);
      this.learnUser(e, category, e.price ?? item.price);
      if (emit) {
        touch(p.users, e.userId, ts);
        touch(p.items, e.itemId, ts);
        if (category !== undefined) touch(p.categories, category, ts);
        if (ts < this.pendingFrom) this.pendingFrom = ts;
      }
    }
    const target = Math.min(this.maxTs - this.config.outOfOrdernessMs, watermarkCap);
    // The earliest pending window ends at most one (shortest) slide after the oldest pending
    // event and stays readable until the watermark passes its end plus the allowed lateness.
    const rows: FeatureSet[] =
      target >= this.pendingFrom + this.minSlide + this.config.allowedLatenessMs
        ? this.takeChanged()
        : [];
    if (target > this.wm) this.wm = target;
    const out = this.advanceAll(this.wm, rows);
    this.sweep();
    return out;
  }

  /**
   * Event time moves on without events (the source has been caught up and quiet, see
   * `pipeline.idleAdvanceMs`): the watermark advances to `wm` when that is later, with the same
   * early read of pending windows as ingest, so timers (window closes, sessions) fire.
   */
  advanceIdle(wm: number): FeatureBatch {
    if (!(wm > this.wm)) return { sets: [], late: [], watermark: this.wm };
    const rows: FeatureSet[] =
      wm >= this.pendingFrom + this.minSlide + this.config.allowedLatenessMs
        ? this.takeChanged()
        : [];
    this.wm = wm;
    const out = this.advanceAll(this.wm, rows);
    this.sweep();
    return out;
  }

  /**
   * The values of every window the batches since the last call changed, per touched key: each
   * window that holds some of those events and that a reader may hold (WindowEngine
   * windowsAtPanes), oldest first, so a backlog spanning hours, or an out-of-order event,
   * rewrites each window it touched and every stored window equals a recount of its events;
   * plus each touched user's unwindowed values.
   */
  takeChanged(): FeatureSet[] {
    const p = this.pending;
    const rows: FeatureSet[] = [];
    const ts = this.maxTs;
    for (const [id, span] of p.users) {
      this.changedRows(this.userFams, id, span, ts, rows);
      const st = this.users.get(id);
      if (st) this.userStateRows(id, st, ts, rows);
    }
    for (const [id, span] of p.items) this.changedRows(this.itemFams, id, span, ts, rows);
    for (const [id, span] of p.categories) this.changedRows(this.categoryFams, id, span, ts, rows);
    p.users.clear();
    p.items.clear();
    p.categories.clear();
    this.pendingFrom = Infinity;
    return rows;
  }

  /**
   * The rows of every window the batch changed that a reader may hold (WindowEngine
   * windowsAtPanes): in order, one window per key and family; a backlog batch spanning hours,
   * or an out-of-order event, rewrites each window it touched, so every stored window equals a
   * recount of its events.
   */
  private changedRows(
    fams: readonly Family[],
    key: string,
    span: Span,
    ts: number,
    rows: FeatureSet[],
  ): void {
    for (const f of fams) {
      for (const w of f.engine.windowsAtPanes(key, span.min, span.max))
        f.rows?.push(key, w.start, w.end, w.agg, ts, rows);
    }
  }

  /**
   * End of a bounded input: fires and closes every window. Unwindowed state stays readable, but
   * the watermark is then +Infinity, so anything ingested afterwards is late everywhere.
   */
  flush(): FeatureBatch {
    this.wm = Infinity;
    return this.advanceAll(Infinity);
  }

  userFeatures(userId: string, asOf = this.maxTs): UserFeatures | undefined {
    const st = this.users.get(userId);
    const windows: Record<string, UserWindowFeatures> = {};
    let any = st !== undefined;
    for (const f of this.userFams) {
      const snap = f.engine.query(userId, asOf);
      if (snap !== undefined) any = true;
      const a = snap?.agg ?? EMPTY_ACTIVITY;
      // trusted-key: window labels come from the feature config
      windows[(f.def as WindowDef).label] = {
        counts: a.counts,
        total: a.total,
        distinctItems: a.distinct,
        start: snap?.start ?? asOf,
        end: snap?.end ?? asOf,
      };
    }
    if (!any) return undefined;
    const session = this.sessionAt(userId, asOf, st);
    const affinity =
      st?.affinity?.ranked(asOf).map((r) => ({ category: r.label, score: r.score })) ?? [];
    return {
      userId,
      asOf,
      windows,
      ...(session && { session }),
      ...(st &&
        st.lastTs > -Infinity && {
          lastEventTs: st.lastTs,
          recencyMs: Math.max(0, asOf - st.lastTs),
        }),
      ...(st && st.lastPurchaseTs > -Infinity && { lastPurchaseTs: st.lastPurchaseTs }),
      categoryAffinity: affinity,
      ...(st && st.priceBands && { priceBand: this.priceBand(st) }),
    };
  }

  itemFeatures(itemId: string, asOf = this.maxTs): ItemFeatures | undefined {
    const st = this.items.get(itemId);
    const windows: Record<string, ItemWindowFeatures> = {};
    let any = st !== undefined;
    let short = 0;
    let long = 0;
    for (const f of this.itemFams) {
      const snap = f.engine.query(itemId, asOf);
      if (snap !== undefined) any = true;
      const a = snap?.agg ?? EMPTY_ACTIVITY;
      // trusted-key: window labels come from the feature config
      windows[(f.def as WindowDef).label] = itemWindow(a);
      if (f === this.shortFam) short = a.total;
      if (f === this.longFam) long = a.total;
    }
    if (!any) return undefined;
    return {
      itemId,
      asOf,
      ...(st?.category !== undefined && { category: st.category }),
      ...(st?.price !== undefined && { price: st.price }),
      ...(st && st.lastTs > -Infinity && { lastEventTs: st.lastTs }),
      windows,
      trendingVelocity: this.velocity(short, long),
    };
  }

  categoryFeatures(category: string, asOf = this.maxTs): CategoryFeatures | undefined {
    const windows: Record<string, CategoryWindowFeatures> = {};
    let any = false;
    for (const f of this.categoryFams) {
      const snap = f.engine.query(category, asOf);
      if (snap !== undefined) any = true;
      // trusted-key: window labels come from the feature config
      windows[(f.def as WindowDef).label] = categoryWindow(
        snap?.agg ?? EMPTY_ACTIVITY,
        this.weights,
      );
    }
    return any ? { category, asOf, windows } : undefined;
  }

  stats(): FeatureStoreStats {
    const families: Record<string, WindowEngineStats> = {};
    let openWindows = 0;
    let lateEvents = 0;
    for (const f of this.allFams) {
      const s = f.engine.stats();
      // trusted-key: family names are code
      families[f.name] = s;
      openWindows += s.openWindows;
      lateEvents += s.lateEvents;
    }
    return {
      watermark: this.wm,
      maxEventTs: this.maxTs,
      users: this.users.size,
      items: this.items.size,
      families,
      openWindows,
      lateEvents,
    };
  }

  private engine(window: WindowSpec, distinctOf: (e: ClickEvent) => string, recentMs = 0): Engine {
    const c = this.config;
    return new WindowEngine({
      window,
      aggregator: activityAggregator(
        distinctOf,
        c.distinctPrecision,
        c.distinctExactLimit,
        recentMs,
      ),
      outOfOrdernessMs: c.outOfOrdernessMs,
      allowedLatenessMs: c.allowedLatenessMs,
      // Rows are upserts: a close result would only repeat a session's last value.
      emitOnClose: false,
    });
  }

  private item(itemId: string, ts: number): ItemState {
    let st = this.items.get(itemId);
    if (st === undefined) {
      st = {
        lastTs: ts,
        category: undefined,
        price: undefined,
      };
      this.items.set(itemId, st);
    } else if (ts > st.lastTs) st.lastTs = ts;
    return st;
  }

  private learnUser(
    e: ClickEvent,
    category: string | undefined,
    price: number | undefined,
  ): UserState {
    let st = this.users.get(e.userId);
    if (st === undefined) {
      st = {
        lastTs: -Infinity,
        lastPurchaseTs: -Infinity,
        affinity: null,
        priceBands: null,
        priceNum: 0,
        priceDen: 0,
        priceT: -Infinity,
        lastSession: null,
        batchCategories: null,
      };
      this.users.set(e.userId, st);
    }
    const ts = e.ts;
    if (ts > st.lastTs) st.lastTs = ts;
    if (e.type === 'purchase' && ts > st.lastPurchaseTs) st.lastPurchaseTs = ts;
    const w = this.weights[TYPE_CODE[e.type]];
    if (category !== undefined && w !== 0) {
      const c = this.config;
      (st.affinity ??= new DecayedScores(c.affinityHalfLifeMs, c.maxCategoriesPerUser)).add(
        category,
        w,
        ts,
      );
      (st.batchCategories ??= new Set()).add(category);
    }
    // Removals say "not this", not "not this price": only positive interest shapes the band.
    if (price !== undefined && w > 0) this.learnPrice(st, price, w, ts);
    return st;
  }

  /** Same order-independent decay as DecayedScores, with one reference time for all bands. */
  private learnPrice(st: UserState, price: number, w: number, ts: number): void {
    const edges = this.config.priceBandEdges;
    const bands = (st.priceBands ??= new Float64Array(edges.length + 1));
    let weight = w;
    if (ts > st.priceT) {
      if (st.priceT > -Infinity) {
        const k = Math.pow(2, -(ts - st.priceT) / this.config.affinityHalfLifeMs);
        for (let i = 0; i < bands.length; i++) bands[i] *= k;
        st.priceNum *= k;
        st.priceDen *= k;
      }
      st.priceT = ts;
    } else weight = w * Math.pow(2, -(st.priceT - ts) / this.config.affinityHalfLifeMs);
    bands[priceBandOf(price, edges)] += weight;
    st.priceNum += weight * price;
    st.priceDen += weight;
  }

  private priceBand(st: UserState): { band: number; label: string; meanPrice: number } {
    const bands = st.priceBands as Float64Array;
    let best = 0;
    for (let i = 1; i < bands.length; i++) if (bands[i] > bands[best]) best = i;
    return {
      band: best,
      label: priceBandLabel(best, this.config.priceBandEdges),
      meanPrice: st.priceDen > 0 ? st.priceNum / st.priceDen : 0,
    };
  }

  private sessionAt(
    userId: string,
    asOf: number,
    st: UserState | undefined,
  ): SessionFeatures | undefined {
    const engine = this.sessionFam.engine;
    const live = engine.query(userId, asOf) ?? engine.latest(userId);
    if (live !== undefined && live.start <= asOf) {
      const a = live.agg;
      return {
        start: live.start,
        lastTs: a.lastTs,
        lengthMs: a.lastTs - a.firstTs,
        depth: a.total,
        distinctItems: a.distinct,
        active: asOf < live.end,
      };
    }
    const s = st?.lastSession;
    if (!s || s.start > asOf) return undefined;
    return {
      start: s.start,
      lastTs: s.lastTs,
      lengthMs: s.lastTs - s.firstTs,
      depth: s.depth,
      distinctItems: s.distinctItems,
      active: asOf < s.end,
    };
  }

  private velocity(short: number, long: number): number {
    const { prior } = this.config.trending;
    const scale = (this.shortFam.def as WindowDef).sizeMs / (this.longFam.def as WindowDef).sizeMs;
    return (short + prior) / (long * scale + prior);
  }

  private advanceAll(wm: number, rows: FeatureSet[] = []): FeatureBatch {
    const late: LateFeatureEvent[] = [];
    const ts = this.maxTs;
    for (const f of this.allFams) {
      // Hopping families read on demand (currentRows) and emit only late events here.
      const outs: WindowOutput<string, ClickEvent, Activity>[] = f.engine.advanceWatermark(wm);
      for (const o of outs) {
        if (o.kind === 'late')
          late.push({ family: f.name, event: o.value, watermark: o.watermark });
        else if (f === this.sessionFam) this.sessionClosed(o, ts, rows);
      }
    }
    return { sets: rows, late, watermark: wm };
  }

  private sessionClosed(r: Result, ts: number, rows: FeatureSet[]): void {
    const a = r.agg;
    if (this.config.emitRows) pushSessionSet(r.key, r, a, ts, r.final, r.retracts, rows);
    const st = this.users.get(r.key);
    if (st && (st.lastSession === null || st.lastSession.start <= r.start)) {
      st.lastSession = {
        start: r.start,
        end: r.end,
        firstTs: a.firstTs,
        lastTs: a.lastTs,
        depth: a.total,
        distinctItems: a.distinct,
      };
    }
  }

  private userStateRows(userId: string, st: UserState, ts: number, rows: FeatureSet[]): void {
    const names: string[] = ['last_event_ts'];
    const values: number[] = [st.lastTs];
    if (st.lastPurchaseTs > -Infinity) {
      names.push('last_purchase_ts');
      values.push(st.lastPurchaseTs);
    }
    if (st.priceBands) {
      const p = this.priceBand(st);
      names.push('price_band', 'price_mean');
      values.push(p.band, p.meanPrice);
    }
    if (st.batchCategories && st.affinity) {
      for (const c of st.batchCategories) {
        names.push(`affinity:${c}`);
        values.push(st.affinity.valueAt(c, st.lastTs));
      }
      st.batchCategories = null;
    }
    rows.push({
      entity: 'user',
      key: userId,
      family: 'user_state',
      windowStart: 0,
      windowEnd: 0,
      ts,
      names,
      values,
    });
  }

  /** Drops unwindowed state of entities idle longer than the TTL, every TTL/8 of event time. */
  private sweep(): void {
    const wm = this.wm;
    if (!Number.isFinite(wm) || wm < this.nextSweepAt) return;
    const ttl = this.config.stateTtlMs;
    const cutoff = wm - ttl;
    for (const [id, st] of this.users) if (st.lastTs < cutoff) this.users.delete(id);
    for (const [id, st] of this.items) if (st.lastTs < cutoff) this.items.delete(id);
    this.nextSweepAt = wm + ttl / 8;
  }
}

interface Span {
  min: number;
  max: number;
}

function touch(keys: Map<string, Span>, key: string, ts: number): void {
  const span = keys.get(key);
  if (span === undefined) keys.set(key, { min: ts, max: ts });
  else if (ts < span.min) span.min = ts;
  else if (ts > span.max) span.max = ts;
}
