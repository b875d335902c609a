import type { ClickEvent, ItemEvent } from '../models/event.js';
import type { WindowEngineStats } from '../stream/windowing/types.js';
import { EMPTY_ACTIVITY } from './activity.js';
import { resolveFeatureConfig, type FeatureConfig } from './config.js';
import { EntityIndex } from './entity-index.js';
import { Families, type EntityState } from './families.js';
import { categoryWindow, itemWindow } from './feature-rows.js';
import { idHash } from './hash-distinct.js';
import type {
  CategoryFeatures,
  CategoryWindowFeatures,
  FeatureBatch,
  FeatureEntity,
  FeatureSet,
  FeatureStoreStats,
  ItemFeatures,
  ItemWindowFeatures,
  UserFeatures,
  UserWindowFeatures,
} from './types.js';
import { FeatureTakes } from './feature-takes.js';
import { allSteps } from '../models/core/steps.js';
import { ItemStates, UserStates } from './user-state.js';
import type { KeyPanesRecord } from './activity-panes.js';
import type { PaneSink } from './window-changelog-codec.js';

/**
 * In-process feature state over a click stream: windowed counts per user, item and category
 * (packed pane families, `ActivityPanes`), user sessions, and unwindowed per-user state
 * (recency, decayed category affinity, price band). `ingest` is the write path the graph calls
 * once per batch; `userFeatures` / `itemFeatures` / `categoryFeatures` are the point-in-time
 * reads the recommenders and push triggers use. Reads come from live window state, so they are
 * as fresh as the last ingested batch. No I/O, no RxJS.
 *
 * Bounds: users, items and categories each live in an EntityIndex capped by `maxUsers`,
 * `maxItems`, `maxCategories` (least recently touched evicted first, CLOCK) and dropped after
 * `stateTtlMs` of event time without an event; a key's panes leave as their windows close.
 */
export class FeatureStore {
  readonly config: FeatureConfig;
  private readonly fams: Families;
  private readonly users: EntityIndex;
  private readonly items: EntityIndex;
  private readonly categories: EntityIndex;
  private readonly userStates: UserStates;
  private readonly itemStates = new ItemStates();
  private wm = -Infinity;
  private maxTs = -Infinity;
  private nextSweepAt = -Infinity;
  /** The keys touched since the last take began, and the takes of their changed windows. */
  private readonly takes: FeatureTakes;

  constructor(config: Partial<FeatureConfig> = {}) {
    const c = (this.config = resolveFeatureConfig(config));
    this.fams = new Families(c);
    this.userStates = new UserStates(c, this.fams.weights);
    const evict = (entity: FeatureEntity) => (slot: number, id: string) => {
      this.fams.removeSlot(entity, slot, id);
      this.takes.pending.of(entity).delete(id);
      if (entity === 'user') this.userStates.reset(slot);
      else if (entity === 'item') this.itemStates.reset(slot);
    };
    this.users = new EntityIndex(c.maxUsers, evict('user'));
    this.items = new EntityIndex(c.maxItems, evict('item'));
    this.categories = new EntityIndex(c.maxCategories, evict('category'));
    const indexOf = (entity: FeatureEntity): EntityIndex => this.indexOf(entity);
    this.takes = new FeatureTakes(this.fams, this.userStates, indexOf, () => this.maxTs);
  }

  get watermark(): number {
    return this.wm;
  }

  get maxEventTs(): number {
    return this.maxTs;
  }

  /** Keys touched since the last take began: what the next take reads. */
  get pendingKeys(): number {
    return this.takes.pending.size;
  }

  /**
   * Erases a user (right to erasure): their windows, session, recency, affinity and price state,
   * and their id's hash in the exact distinct-user counts of item and category windows. Event
   * counts and distinct sketches keep the contribution, which names nobody (docs/privacy.md).
   */
  forgetUser(userId: string): boolean {
    const slot = this.users.remove(userId);
    this.takes.pending.users.delete(userId);
    let found = this.fams.session.engine.removeKey(userId);
    if (slot !== undefined) {
      this.fams.removeSlot('user', slot, userId);
      found = true;
    }
    this.fams.forgetDistinct(idHash(userId));
    return found;
  }

  /** Catalog events give items a category and price that click events may lack. */
  observeItem(item: ItemEvent): void {
    const slot = this.itemSlot(item.itemId, item.ts);
    this.itemStates.learn(slot, item.category, item.price);
  }

  /**
   * Adds a batch, then advances the watermark to max event time − out-of-orderness once, so all
   * events of the batch are judged against the previous batch's watermark. `watermarkCap` lets
   * a multi-partition source hold the watermark at its slowest active partition.
   *
   * The keys the batch touched are remembered (with `emitRows`) and their values built by
   * `takeChanged`, once per key however many batches touched it since. The returned sets are
   * session closes, plus the pending windows whenever this watermark move would otherwise close
   * one of them before it was read (a backlog batch can span hours of event time).
   */
  ingest(events: readonly ClickEvent[], watermarkCap = Number.POSITIVE_INFINITY): FeatureBatch {
    return allSteps(this.ingestSteps(events, watermarkCap));
  }

  /**
   * ingest in steps: it yields after an event whenever `due()` says so (run's graph gives the
   * event loop back there: a backlog batch of 2,000 events was one 100-200 ms stretch), and
   * returns what ingest returns. Nothing else may ingest until it is done, and no take in parts
   * may be open (takeChangedParts): it throws then.
   */
  *ingestSteps(
    events: readonly ClickEvent[],
    watermarkCap = Number.POSITIVE_INFINITY,
    due: () => boolean = never,
  ): Generator<void, FeatureBatch, undefined> {
    this.refuseDuringTake('ingest');
    const emit = this.config.emitRows;
    const f = this.fams;
    for (const e of events) {
      const ts = e.ts;
      if (ts > this.maxTs) this.maxTs = ts;
      const item = this.itemSlot(e.itemId, ts);
      const is = this.itemStates;
      is.learn(item, e.category, e.price);
      const category = is.category(item);
      const user = this.userSlot(e.userId, ts);
      const userHash = idHash(e.userId);
      f.addUser(user, e.userId, ts, e, idHash(e.itemId));
      f.addItem(item, ts, e, userHash);
      if (category !== undefined)
        f.addCategory(this.categories.touch(category, ts), ts, e, userHash);
      this.userStates.learn(user, e, category, is.price(item));
      if (emit) this.takes.pending.touch(e.userId, e.itemId, category, ts);
      if (due()) yield;
    }
    const target = Math.min(this.maxTs - this.config.outOfOrdernessMs, watermarkCap);
    const rows = this.readsDue(target);
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
    this.refuseDuringTake('advanceIdle');
    if (!(wm > this.wm)) return { sets: [], late: [], watermark: this.wm };
    const rows = this.readsDue(wm);
    this.wm = wm;
    const out = this.advanceAll(this.wm, rows);
    this.sweep();
    return out;
  }

  /**
   * The values of every window the batches since the last call changed, per touched key: each
   * window that holds some of those events and that a reader may hold, oldest first, so a
   * backlog spanning hours, or an out-of-order event, rewrites each window it touched and every
   * stored window equals a recount of its events; plus each touched user's unwindowed values.
   */
  takeChanged(): FeatureSet[] {
    return this.takes.all();
  }

  /**
   * takeChanged in parts of at most `keysPerPart` keys, so a caller can give the event loop back
   * between parts (the analytics lane: taking a few thousand keys' windows was one 0.3-0.8 s
   * stretch). The keys pending when it starts are taken out at once. Until its last part has
   * been read, nothing may ingest, advanceIdle or flush (they throw): a watermark move could
   * close a window of a key not read yet (run holds the batch gate across the parts). A key
   * erased or evicted between parts is skipped. One take in parts at a time.
   */
  takeChangedParts(keysPerPart: number): Generator<FeatureSet[], void, undefined> {
    return this.takes.parts(keysPerPart);
  }

  /**
   * End of a bounded input: closes every window. Unwindowed state stays readable, but the
   * watermark is then +Infinity, so anything ingested afterwards is late everywhere.
   */
  flush(): FeatureBatch {
    this.refuseDuringTake('flush');
    this.wm = Infinity;
    return this.advanceAll(Infinity);
  }

  userFeatures(userId: string, asOf = this.maxTs): UserFeatures | undefined {
    const slot = this.users.slotOf(userId);
    const windows: Record<string, UserWindowFeatures> = {};
    let any = slot !== undefined;
    for (const f of this.fams.userFams) {
      const snap = slot === undefined ? undefined : f.panes.query(slot, asOf);
      if (snap !== undefined) any = true;
      const a = snap?.agg ?? EMPTY_ACTIVITY;
      // trusted-key: window labels come from the feature config
      windows[f.def.label] = {
        counts: a.counts,
        total: a.total,
        distinctItems: a.distinct,
        start: snap?.start ?? asOf,
        end: snap?.end ?? asOf,
      };
    }
    if (!any || slot === undefined) return undefined;
    const us = this.userStates;
    const session = this.fams.sessionAt(userId, asOf, us.sessionOf(slot));
    const affinity = us
      .affinityRanked(slot, asOf)
      .map((r) => ({ category: r.label, score: r.score }));
    const lastTs = this.users.lastSeen(slot);
    const lastPurchaseTs = us.lastPurchaseTs(slot);
    const priceBand = us.priceBand(slot);
    return {
      userId,
      asOf,
      windows,
      ...(session && { session }),
      ...(lastTs > -Infinity && { lastEventTs: lastTs, recencyMs: Math.max(0, asOf - lastTs) }),
      ...(lastPurchaseTs > -Infinity && { lastPurchaseTs }),
      categoryAffinity: affinity,
      ...(priceBand && { priceBand }),
    };
  }

  itemFeatures(itemId: string, asOf = this.maxTs): ItemFeatures | undefined {
    const slot = this.items.slotOf(itemId);
    if (slot === undefined) return undefined;
    const windows: Record<string, ItemWindowFeatures> = {};
    let short = 0;
    let long = 0;
    const f = this.fams;
    for (const fam of f.itemFams) {
      const a = fam.panes.query(slot, asOf)?.agg ?? EMPTY_ACTIVITY;
      // trusted-key: window labels come from the feature config
      windows[fam.def.label] = itemWindow(a);
      if (fam === f.shortFam) short = a.total;
      if (fam === f.longFam) long = a.total;
    }
    const category = this.itemStates.category(slot);
    const price = this.itemStates.price(slot);
    const lastTs = this.items.lastSeen(slot);
    return {
      itemId,
      asOf,
      ...(category !== undefined && { category }),
      ...(price !== undefined && { price }),
      ...(lastTs > -Infinity && { lastEventTs: lastTs }),
      windows,
      trendingVelocity: f.velocity(short, long),
    };
  }

  categoryFeatures(category: string, asOf = this.maxTs): CategoryFeatures | undefined {
    const slot = this.categories.slotOf(category);
    if (slot === undefined) return undefined;
    const windows: Record<string, CategoryWindowFeatures> = {};
    let any = false;
    for (const f of this.fams.categoryFams) {
      const snap = f.panes.query(slot, asOf);
      if (snap !== undefined) any = true;
      // trusted-key: window labels come from the feature config
      windows[f.def.label] = categoryWindow(snap?.agg ?? EMPTY_ACTIVITY, this.fams.weights);
    }
    return any ? { category, asOf, windows } : undefined;
  }

  /**
   * One key's window state in every family of its entity (window label → its panes, newest
   * first); undefined when the store holds no window of the key. `restoreWindows` puts it back.
   */
  exportWindows(entity: FeatureEntity, id: string): Map<string, KeyPanesRecord> | undefined {
    const slot = this.indexOf(entity).slotOf(id);
    return slot === undefined ? undefined : this.fams.exportSlot(entity, slot);
  }

  /** `exportWindows` into a changelog record, not built as objects (nothing if no window). */
  writeWindows(entity: FeatureEntity, id: string, w: PaneSink): void {
    const slot = this.indexOf(entity).slotOf(id);
    if (slot !== undefined) this.fams.writeSlot(entity, slot, w);
  }

  restoreWindows(
    entity: FeatureEntity,
    id: string,
    ts: number,
    windows: ReadonlyMap<string, KeyPanesRecord>,
  ): void {
    const slot =
      entity === 'user'
        ? this.userSlot(id, ts)
        : entity === 'item'
          ? this.itemSlot(id, ts)
          : this.categories.touch(id, ts);
    this.fams.importSlot(entity, slot, windows);
  }

  /** Ids held per entity, for iteration by a changelog or a checkpoint. */
  forEachKey(entity: FeatureEntity, fn: (id: string) => void): void {
    this.indexOf(entity).forEach((id) => fn(id));
  }

  stats(): FeatureStoreStats {
    const families: Record<string, WindowEngineStats> = {};
    let openWindows = 0;
    let lateEvents = 0;
    for (const [name, s] of this.fams.stats()) {
      // trusted-key: family names are code
      families[name] = s;
      openWindows += s.openWindows;
      lateEvents += s.lateEvents;
    }
    return {
      watermark: this.wm,
      maxEventTs: this.maxTs,
      users: this.users.size,
      items: this.items.size,
      categories: this.categories.size,
      evicted: this.users.evicted + this.items.evicted + this.categories.evicted,
      families,
      openWindows,
      lateEvents,
    };
  }

  private indexOf(entity: FeatureEntity): EntityIndex {
    return entity === 'user' ? this.users : entity === 'item' ? this.items : this.categories;
  }

  private userSlot(userId: string, ts: number): number {
    const known = this.users.slotOf(userId) !== undefined;
    const slot = this.users.touch(userId, ts);
    if (!known) this.userStates.reset(slot);
    return slot;
  }

  private itemSlot(itemId: string, ts: number): number {
    const known = this.items.slotOf(itemId) !== undefined;
    const slot = this.items.touch(itemId, ts);
    if (!known) this.itemStates.reset(slot);
    return slot;
  }

  private readsDue(target: number): FeatureSet[] {
    // The earliest pending window ends at most one (shortest) slide after the oldest pending
    // event and stays readable until the watermark passes its end plus the allowed lateness.
    const from = this.takes.pending.from;
    return target >= from + this.fams.minSlide + this.config.allowedLatenessMs
      ? this.takeChanged()
      : [];
  }

  private refuseDuringTake(what: string): void {
    if (this.takes.open)
      throw new Error(
        `FeatureStore: ${what} while a take in parts is open (read its last part first)`,
      );
  }

  private advanceAll(wm: number, rows: FeatureSet[] = []): FeatureBatch {
    const state: EntityState = { users: this.users, userStates: this.userStates };
    return this.fams.advance(wm, this.maxTs, rows, state);
  }

  /** Drops entities idle longer than the TTL, every TTL/8 of event time. */
  private sweep(): void {
    const wm = this.wm;
    if (!Number.isFinite(wm) || wm < this.nextSweepAt) return;
    const ttl = this.config.stateTtlMs;
    for (const idx of [this.users, this.items, this.categories]) idx.sweep(wm - ttl);
    this.nextSweepAt = wm + ttl / 8;
  }
}

const never = (): boolean => false;
