import { EVENT_TYPES, type ClickEvent } from '../models/event.js';
import { TYPE_CODE } from '../models/core/weights.js';
import { WindowEngine } from '../stream/windowing/window-engine.js';
import type { WindowEngineStats } from '../stream/windowing/types.js';
import { ActivityPanes, type KeyPanesRecord } from './activity-panes.js';
import type { FeatureConfig, WindowDef } from './config.js';
import type { EntityIndex } from './entity-index.js';
import { WindowRows, pushSessionSet } from './feature-rows.js';
import type {
  FeatureBatch,
  FeatureEntity,
  FeatureSet,
  LateFeatureEvent,
  SessionFeatures,
} from './types.js';
import type { SessionSummary, UserStates } from './user-state.js';
import { sessionAggregator, type SessionAcc, type SessionActivity } from './session-activity.js';
import type { PaneSink } from './window-changelog-codec.js';

/** One hopping feature family (`user_5m`, `item_24h`, ...): packed panes read on demand. */
export interface PaneFamily {
  readonly name: string;
  readonly entity: FeatureEntity;
  readonly def: WindowDef;
  readonly panes: ActivityPanes;
  readonly rows: WindowRows;
  /** Events too late for every window, reported at the next advance. Bound: one batch's. */
  late: LateFeatureEvent[];
}

export interface SessionFamily {
  readonly name: 'session';
  readonly engine: WindowEngine<string, ClickEvent, SessionAcc, SessionActivity>;
}

/** What the families need from the store when sessions close. */
export interface EntityState {
  readonly users: Pick<EntityIndex, 'slotOf'>;
  readonly userStates: UserStates;
}

/**
 * The window families of the feature store: hopping windows per user, item and category as
 * ActivityPanes (keyed by EntityIndex slots) and user sessions on a WindowEngine (keyed by user
 * id; a session is dropped `sessionGapMs` + lateness after its last event, and with its user).
 */
export class Families {
  readonly weights: Float64Array;
  readonly userFams: PaneFamily[];
  readonly itemFams: PaneFamily[];
  readonly categoryFams: PaneFamily[];
  readonly session: SessionFamily;
  readonly shortFam: PaneFamily;
  readonly longFam: PaneFamily;
  readonly minSlide: number;

  constructor(private readonly c: FeatureConfig) {
    this.weights = new Float64Array(EVENT_TYPES.length);
    for (const t of EVENT_TYPES) this.weights[TYPE_CODE[t]] = c.eventWeights[t];
    const shortSize = (c.itemWindows.find((w) => w.label === c.trending.short) as WindowDef).sizeMs;
    const family = (entity: FeatureEntity, def: WindowDef): PaneFamily => {
      // The long trending window counts its own short tail (FeatureConfig.trending).
      const tail = entity === 'item' && def.label === c.trending.long ? shortSize : 0;
      return {
        name: `${entity}_${def.label}`,
        entity,
        def,
        // On read: rows are built for the keys a batch touches, as of their newest event, and
        // never as windows slide, so an event-time boundary costs no work per key (the panes a
        // boundary closes are dropped on a timer). Readers tell a stale value by its window end.
        panes: new ActivityPanes({
          sizeMs: def.sizeMs,
          slideMs: def.slideMs,
          tailMs: tail,
          allowedLatenessMs: c.allowedLatenessMs,
          precision: c.distinctPrecision,
          exactLimit: c.distinctExactLimit,
        }),
        rows: new WindowRows(
          entity,
          def.label,
          this.weights,
          tail > 0 ? (recent, total) => this.velocity(recent, total) : undefined,
        ),
        late: [],
      };
    };
    const bySize = (a: WindowDef, b: WindowDef): number => a.sizeMs - b.sizeMs;
    this.userFams = [...c.userWindows].sort(bySize).map((d) => family('user', d));
    this.itemFams = [...c.itemWindows].sort(bySize).map((d) => family('item', d));
    this.categoryFams = [...c.categoryWindows].sort(bySize).map((d) => family('category', d));
    this.session = {
      name: 'session',
      engine: new WindowEngine({
        window: { kind: 'session', gap: c.sessionGapMs },
        aggregator: sessionAggregator(c.distinctPrecision, c.distinctExactLimit),
        outOfOrdernessMs: c.outOfOrdernessMs,
        allowedLatenessMs: c.allowedLatenessMs,
        // Rows are upserts: a close result would only repeat a session's last value.
        emitOnClose: false,
      }),
    };
    this.minSlide = Math.min(
      ...[...c.userWindows, ...c.itemWindows, ...c.categoryWindows].map((w) => w.slideMs),
    );
    this.shortFam = this.itemFams.find((f) => f.def.label === c.trending.short) as PaneFamily;
    this.longFam = this.itemFams.find((f) => f.def.label === c.trending.long) as PaneFamily;
  }

  /** `itemHash`: idHash of the event's item, what user windows count distinct. */
  addUser(slot: number, userId: string, ts: number, e: ClickEvent, itemHash: number): void {
    for (const f of this.userFams) add(f, slot, ts, e, itemHash);
    this.session.engine.add(userId, ts, e);
  }

  /** `userHash`: idHash of the event's user, what item and category windows count distinct. */
  addItem(slot: number, ts: number, e: ClickEvent, userHash: number): void {
    for (const f of this.itemFams) add(f, slot, ts, e, userHash);
  }

  addCategory(slot: number, ts: number, e: ClickEvent, userHash: number): void {
    for (const f of this.categoryFams) add(f, slot, ts, e, userHash);
  }

  /** Drops a key's windows (eviction, TTL, erasure). */
  removeSlot(entity: FeatureEntity, slot: number, id: string): void {
    for (const f of this.of(entity)) f.panes.removeSlot(slot);
    if (entity === 'user') this.session.engine.removeKey(id);
  }

  /** Erasure: a user's hash leaves the exact distinct-user counts of items and categories. */
  forgetDistinct(userHash: number): void {
    for (const f of [...this.itemFams, ...this.categoryFams]) f.panes.forgetHash(userHash);
  }

  /**
   * The rows of every window of the key that the batches changed and that a reader may hold,
   * oldest first per family.
   */
  changedRows(
    fams: readonly PaneFamily[],
    slot: number,
    id: string,
    from: number,
    to: number,
    ts: number,
    rows: FeatureSet[],
  ): void {
    for (const f of fams)
      for (const w of f.panes.windowsAtPanes(slot, from, to))
        f.rows.push(id, w.start, w.end, w.agg, ts, rows);
  }

  exportSlot(entity: FeatureEntity, slot: number): Map<string, KeyPanesRecord> | undefined {
    const out = new Map<string, KeyPanesRecord>();
    for (const f of this.of(entity)) {
      const r = f.panes.exportSlot(slot);
      if (r !== undefined) out.set(f.def.label, r);
    }
    return out.size > 0 ? out : undefined;
  }

  /** As `exportSlot`, into a changelog record: how many families hold panes of the key. */
  writeSlot(entity: FeatureEntity, slot: number, w: PaneSink): number {
    let n = 0;
    for (const f of this.of(entity)) if (f.panes.writeSlot(slot, f.def.label, w)) n++;
    return n;
  }

  importSlot(
    entity: FeatureEntity,
    slot: number,
    windows: ReadonlyMap<string, KeyPanesRecord>,
  ): void {
    for (const f of this.of(entity)) {
      const r = windows.get(f.def.label);
      if (r !== undefined) f.panes.importSlot(slot, r);
      else f.panes.removeSlot(slot);
    }
  }

  /** Advances every family (in a fixed order), reporting late events and closed sessions. */
  advance(wm: number, ts: number, rows: FeatureSet[], state: EntityState): FeatureBatch {
    const late: LateFeatureEvent[] = [];
    const drain = (fams: readonly PaneFamily[]): void => {
      for (const f of fams) {
        for (const l of f.late) late.push(l);
        f.late = [];
        f.panes.advance(wm);
      }
    };
    drain(this.userFams);
    for (const o of this.session.engine.advanceWatermark(wm)) {
      if (o.kind === 'late')
        late.push({ family: 'session', event: o.value, watermark: o.watermark });
      else {
        const a = o.agg;
        if (this.c.emitRows) pushSessionSet(o.key, o, a, ts, o.final, o.retracts, rows);
        const slot = state.users.slotOf(o.key);
        if (slot !== undefined) {
          state.userStates.closeSession(slot, {
            start: o.start,
            end: o.end,
            firstTs: a.firstTs,
            lastTs: a.lastTs,
            depth: a.total,
            distinctItems: a.distinct,
          });
        }
      }
    }
    drain(this.itemFams);
    drain(this.categoryFams);
    return { sets: rows, late, watermark: wm };
  }

  stats(): [string, WindowEngineStats][] {
    return [
      ...this.userFams.map((f): [string, WindowEngineStats] => [f.name, f.panes.stats()]),
      ['session', this.session.engine.stats()],
      ...[...this.itemFams, ...this.categoryFams].map((f): [string, WindowEngineStats] => [
        f.name,
        f.panes.stats(),
      ]),
    ];
  }

  /** The user's live session, else the last closed one (`closed`, kept in UserStates). */
  sessionAt(
    userId: string,
    asOf: number,
    closed: SessionSummary | undefined,
  ): SessionFeatures | undefined {
    const engine = this.session.engine;
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
    if (!closed || closed.start > asOf) return undefined;
    return {
      start: closed.start,
      lastTs: closed.lastTs,
      lengthMs: closed.lastTs - closed.firstTs,
      depth: closed.depth,
      distinctItems: closed.distinctItems,
      active: asOf < closed.end,
    };
  }

  velocity(short: number, long: number): number {
    const { prior } = this.c.trending;
    const scale = this.shortFam.def.sizeMs / this.longFam.def.sizeMs;
    return (short + prior) / (long * scale + prior);
  }

  /** The families of one entity kind, smallest window first. */
  of(entity: FeatureEntity): readonly PaneFamily[] {
    return entity === 'user'
      ? this.userFams
      : entity === 'item'
        ? this.itemFams
        : this.categoryFams;
  }
}

function add(f: PaneFamily, slot: number, ts: number, e: ClickEvent, h: number): void {
  if (!f.panes.add(slot, ts, e, h))
    f.late.push({ family: f.name, event: e, watermark: f.panes.watermark });
}
