import type { ClickEvent, ScoredItem } from './event.js';
import type { Recommender } from './recommender.js';
import { growF64 } from './core/arrays.js';
import { ModelContext, Ranker } from './core/context.js';
import { DecayClock } from './core/decay.js';
import { stripUndefined } from './core/options.js';
import {
  SnapshotReader,
  SnapshotWriter,
  restoreComponent,
  snapshotComponent,
} from './core/snapshot.js';
import { DAY_MS, TYPE_CODE, weightTable, type EventWeights } from './core/weights.js';
import { POPULAR, SCALARS, type ItemDeltaRecord } from './core/item-deltas.js';

export interface PopularOptions {
  /** Event-time half-life of an interaction's weight, in days (default 14). */
  halfLifeDays?: number;
  eventWeights?: Partial<EventWeights>;
}

/** Global popularity with exponential forgetting in event time: the same list for everyone. */
export class PopularRecommender implements Recommender {
  readonly name: string = 'popular';
  readonly ctx: ModelContext;
  private readonly weights: Float64Array;
  private readonly clock: DecayClock;
  /** decayed, weighted interaction mass per item (inflated units, see DecayClock) */
  pop = new Float64Array(0);
  /** running max of `pop` (exact: values only grow between rescales) */
  maxPop = 0;
  private readonly ranker = new Ranker();
  private lastTs = 0;
  private readonly reason = (): string => 'popular now';

  constructor(opts: PopularOptions = {}, ctx?: ModelContext) {
    const o = { halfLifeDays: 14, ...stripUndefined(opts) };
    this.ctx = ctx ?? new ModelContext();
    this.weights = weightTable(opts.eventWeights);
    this.clock = new DecayClock(o.halfLifeDays * DAY_MS);
  }

  learn(event: ClickEvent): void {
    const i = this.ctx.items.intern(event.itemId);
    if (i < 0) return; // the item space is full (limits.items)
    this.observe(this.ctx.users.intern(event.userId), i, event);
  }

  observe(_u: number, i: number, event: ClickEvent): void {
    this.pop = growF64(this.pop, this.ctx.items.size);
    const tw = this.weights[TYPE_CODE[event.type]];
    if (!(tw > 0) || this.ctx.userOnly) return;
    const f = this.clock.advance(event.ts);
    if (f !== 1) {
      for (let c = 0; c < this.pop.length; c++) this.pop[c] *= f;
      this.maxPop *= f;
    }
    const add = tw * this.clock.weight(event.ts);
    const v = (this.pop[i] += add);
    const d = this.ctx.deltas;
    if (d !== undefined) d.scalar(i, POPULAR, add * d.unit(POPULAR, this.clock));
    if (v > this.maxPop) this.maxPop = v;
    if (event.ts > this.lastTs) this.lastTs = event.ts;
  }

  /** Another instance's popularity mass (see ItemKnn's applyItemDeltas). */
  applyItemDeltas(ids: Int32Array, r: ItemDeltaRecord): void {
    this.pop = growF64(this.pop, this.ctx.items.size);
    const f = this.clock.advance(r.ref);
    if (f !== 1) {
      for (let c = 0; c < this.pop.length; c++) this.pop[c] *= f;
      this.maxPop *= f;
    }
    const w = this.clock.weight(r.ref);
    for (let k = 0; k < r.scalarItems.length; k++) {
      const add = r.scalars[k * SCALARS + POPULAR];
      const i = ids[r.scalarItems[k]];
      if (i < 0 || add === 0) continue;
      const v = (this.pop[i] += add * w);
      if (v > this.maxPop) this.maxPop = v;
    }
    if (r.last > this.lastTs) this.lastTs = r.last;
  }

  recommend(_userId: string, k: number, exclude: ReadonlySet<string>): ScoredItem[] {
    const items = this.ctx.items;
    const r = this.ranker;
    r.begin(k);
    const pop = this.pop;
    for (let c = 0, n = items.size; c < n; c++) if (pop[c] > 0) r.offer(c, pop[c], items, exclude);
    // inflated units mean nothing outside the model: report decayed counts as of the latest event
    return r.finish(items, this.reason, 1 / this.clock.weight(this.lastTs));
  }

  save(w: SnapshotWriter): void {
    w.set('origin', this.clock.origin);
    w.set('lastTs', this.lastTs);
    w.set('maxPop', this.maxPop);
    w.array('pop', this.pop, this.ctx.items.size);
  }

  load(r: SnapshotReader): void {
    this.clock.origin = r.num('origin');
    this.lastTs = r.num('lastTs');
    this.maxPop = r.num('maxPop');
    this.pop = growF64(new Float64Array(0), this.ctx.items.size);
    this.pop.set(r.f64('pop'));
  }

  snapshot(): Uint8Array {
    return snapshotComponent(this);
  }

  restore(bytes: Uint8Array): void {
    restoreComponent(this, bytes);
  }
}
