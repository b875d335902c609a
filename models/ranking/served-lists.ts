import { growI32 } from '../core/arrays.js';
import type { UserHistory } from '../core/history.js';
import { F, type RankerModel } from './model.js';
import { OnlineRankLearner, PendingExamples, type OnlineRankOptions } from './online.js';

/**
 * The last list served to each of the most recent users, and the online learning it feeds: when
 * a user acts on an item of their last list, that list (its feature rows in served order) is a
 * training example, learned at once or after the learner's delay. Bound: `size` users × `depth`
 * rows; the least recently served user's list is overwritten first.
 */
export class ServedLists {
  readonly learner: OnlineRankLearner;
  private readonly pending: PendingExamples;
  private readonly size: number;
  private readonly cacheUser: Int32Array;
  private readonly cacheCount: Int32Array;
  private readonly cacheIds: Int32Array;
  private readonly cacheRows: Float32Array;
  private userSlot = new Int32Array(0);
  private cacheNext = 0;
  /** The model the entry being learned updates, and that entry (the callbacks read them). */
  private model: RankerModel;
  private entry = 0;
  private chkUser = 0;
  private chkBase = 0;
  private readonly learnPending = (e: number): void => this.learnEntry(e);
  private readonly notTakenCached = (r: number): boolean =>
    this.history.indexOf(this.chkUser, this.cacheIds[this.chkBase + r]) < 0;
  /** A row of the pending entry is a negative unless the user has taken its item since. */
  private readonly notTakenSince = (r: number): boolean => {
    const p = this.pending;
    const e = this.entry;
    return this.history.indexOf(p.userOf(e), p.itemOf(e, r)) < 0;
  };

  constructor(
    opts: OnlineRankOptions | undefined,
    prior: RankerModel,
    private readonly depth: number,
    size: number,
    private readonly history: UserHistory,
  ) {
    this.learner = new OnlineRankLearner(opts, prior);
    this.pending = new PendingExamples(this.learner.o.pending, depth);
    this.model = prior;
    this.size = Math.max(1, size);
    this.cacheUser = new Int32Array(this.size).fill(-1);
    this.cacheCount = new Int32Array(this.size);
    this.cacheIds = new Int32Array(this.size * depth);
    this.cacheRows = new Float32Array(this.size * depth * F);
  }

  ensureUsers(users: number): void {
    if (users <= this.userSlot.length) return;
    const old = this.userSlot.length;
    this.userSlot = growI32(this.userSlot, users);
    this.userSlot.fill(-1, old);
  }

  /** A recycled user row: its cached list was someone else's. */
  forget(u: number): void {
    const slot = u < this.userSlot.length ? this.userSlot[u] : -1;
    if (slot < 0) return;
    this.cacheUser[slot] = -1;
    this.cacheCount[slot] = 0;
    this.userSlot[u] = -1;
  }

  /** After a restore: no user has a cached list (rows are numbered anew). */
  clear(): void {
    this.userSlot = new Int32Array(0);
    this.cacheUser.fill(-1);
  }

  /**
   * Keeps the first `count` served rows of user u: row t is X's row `finalSlots[t]`, its item
   * `list[preSlots[finalSlots[t]]]`.
   */
  remember(
    u: number,
    count: number,
    finalSlots: Int32Array,
    preSlots: Int32Array,
    list: Int32Array,
    X: Float32Array,
  ): void {
    let slot = this.userSlot[u];
    if (slot < 0) {
      slot = this.cacheNext;
      this.cacheNext = (this.cacheNext + 1) % this.size;
      const prev = this.cacheUser[slot];
      if (prev >= 0) this.userSlot[prev] = -1;
      this.cacheUser[slot] = u;
      this.userSlot[u] = slot;
    }
    const depth = this.depth;
    const n = Math.min(count, depth);
    const base = slot * depth;
    const rows = this.cacheRows;
    for (let t = 0; t < n; t++) {
      const row = finalSlots[t];
      this.cacheIds[base + t] = list[preSlots[row]];
      // a plain loop: subarray() would allocate a view per row on the hot path
      for (let f = 0, from = row * F, to = (base + t) * F; f < F; f++) rows[to + f] = X[from + f];
    }
    this.cacheCount[slot] = n;
  }

  /** The user acted on item i: if it was in the list last served to them, learn from that list. */
  acted(model: RankerModel, u: number, i: number, ts: number): void {
    const slot = u < this.userSlot.length ? this.userSlot[u] : -1;
    if (slot < 0) return;
    const depth = this.depth;
    const count = this.cacheCount[slot];
    const base = slot * depth;
    for (let r = 0; r < count; r++) {
      if (this.cacheIds[base + r] !== i) continue;
      const learner = this.learner;
      if (learner.o.delayMs <= 0) {
        // no delay: learn from the cached rows in place, no copy through the queue
        this.chkUser = u;
        this.chkBase = base;
        const rows = this.cacheRows.subarray(base * F, (base + count) * F);
        learner.update(model, rows, count, r, this.notTakenCached);
        markOnline(model);
        return;
      }
      this.model = model;
      this.pending.push(u, ts, this.cacheIds, this.cacheRows, base, count, r, this.learnPending);
      return;
    }
  }

  /** Learns the queued lists whose delay is over by event time `now`. */
  drain(model: RankerModel, now: number): void {
    this.model = model;
    this.pending.drain(now, this.learner.o.delayMs, this.learnPending);
  }

  /** A queued list's delay is over: rows the user has since taken are not negatives. */
  private learnEntry(e: number): void {
    const p = this.pending;
    this.entry = e;
    this.learner.update(this.model, p.rowsOf(e), p.countOf(e), p.posOf(e), this.notTakenSince);
    markOnline(this.model);
  }
}

function markOnline(m: RankerModel): void {
  if (!m.version.endsWith('+online')) m.version += '+online';
}
