import type { ClickEvent, ScoredItem } from '../event.js';
import type { Recommender } from '../recommender.js';
import { growI32 } from '../core/arrays.js';
import { ModelContext, Ranker, ReasonCache } from '../core/context.js';
import { stripUndefined } from '../core/options.js';
import {
  restoreComponent,
  snapshotComponent,
  type SnapshotReader,
  type SnapshotWriter,
} from '../core/snapshot.js';
import { TopK } from '../core/topk.js';
import { PopularRecommender } from '../popular.js';
import { checkSequenceModel, gruStep, itemScore, type SequenceModel } from './gru-model.js';
import { FitRunner } from './fit-runner.js';
import { MarkovPrior } from './markov-prior.js';
import { readModel, readPending, writeModel, writePending } from './model-snapshot.js';
import { SEQUENCE_DEFAULTS, type SequenceOptions } from './sequence-options.js';
import { UserSessions, sessionHash } from './sessions.js';
import { TrainBuffer } from './train-buffer.js';
import type { Transitions } from './transitions.js';

export type { SequenceOptions } from './sequence-options.js';

/**
 * GRU4Rec-style next-item model: the user's current session is run through a GRU whose state
 * scores every item (gru-model.ts). Serving is incremental, one GRU step per event (about
 * 6·dim² multiply-adds); a swapped-in model invalidates every state, and each is rebuilt from
 * the session's last `maxLength` items the next time it is needed. A Markov prior
 * (markov-prior.ts, counted online) adds β·Σ_d (1/d)·ln(1 + p(item | d-th last item) / ε) to each
 * logit; it fits nothing, so it also serves alone before the first fit. Without either, and for
 * users with no session, it recommends by popularity.
 */
export class SequenceRecommender implements Recommender {
  readonly name: string = 'sequence';
  readonly ctx: ModelContext;
  private readonly o: typeof SEQUENCE_DEFAULTS & SequenceOptions;
  private readonly gapMs: number;
  readonly sessions: UserSessions;
  private readonly buffer: TrainBuffer;
  private readonly popular: PopularRecommender | undefined;
  private model: SequenceModel | undefined;
  /** bumped by every swap; a user state computed under another epoch is stale */
  private epoch = 0;
  /** model row of each item (-1: the model does not know it) and item of each row */
  private rowOf = new Int32Array(0);
  private itemOf = new Int32Array(0);
  private readonly g = new Float32Array(6 * 256);
  private events = 0;
  private nextTrain: number;
  /** event count at which the pending worker fit is swapped in (-1: none pending) */
  private applyAt = -1;
  private readonly runner: FitRunner;
  /** Fits done in-process and their total time (benchmarks report them apart from serving). */
  fits = 0;
  fitSeconds = 0;
  private readonly ranker = new Ranker();
  private readonly heap = new TopK(32);
  private candIds = new Int32Array(32);
  private candScoresBuf = new Float64Array(32);
  private nCand = 0;
  private slots = new Int32Array(0);
  private slotScores = new Float64Array(0);
  private maxLogit = 0;
  private scoredUser = -1;
  private readonly after = new ReasonCache('often next after ');
  private readonly markov: MarkovPrior;
  /** the Markov prior's item → next-item counts */
  readonly transitions: Transitions;
  private lastItemOfUser = -1;
  private readonly reason = (): string =>
    this.lastItemOfUser >= 0 ? this.after.get(this.lastItemOfUser, this.ctx.items) : 'popular now';

  constructor(opts: SequenceOptions = {}, ctx?: ModelContext) {
    this.o = { ...SEQUENCE_DEFAULTS, ...stripUndefined(opts) };
    this.ctx = ctx ?? new ModelContext();
    // standalone it needs its own fallback; inside the hybrid the other components cover it
    this.popular = ctx ? undefined : new PopularRecommender({}, this.ctx);
    this.gapMs = this.o.acrossSessions ? Infinity : this.o.sessionGapMinutes * 60_000;
    this.sessions = new UserSessions(Math.max(1, this.o.maxLength), this.o.dim);
    this.buffer = new TrainBuffer(this.o.trainEvery > 0 ? this.o.trainWindow : 0);
    this.nextTrain = Math.max(1, this.o.minTrainEvents);
    this.runner = new FitRunner(this.o.fitLag > 0);
    this.markov = new MarkovPrior(this.o, this.sessions);
    this.transitions = this.markov.transitions;
    this.ctx.users.onRecycle((u) => {
      this.sessions.reset(u);
      this.markov.forget(u);
    });
  }

  get currentModel(): SequenceModel | undefined {
    return this.model;
  }

  /** How serving cuts a user's events into sequences; a trainer must cut them the same way. */
  get sessionCut(): { readonly gapMs: number; readonly bySessionId: boolean } {
    return { gapMs: this.gapMs, bySessionId: !this.o.acrossSessions };
  }

  get modelVersion(): string {
    return this.model?.version ?? 'none';
  }

  /** Replaces the weights at once; user states are rebuilt lazily under the new ones. */
  swapModel(next: SequenceModel): void {
    checkSequenceModel(next);
    if (6 * next.dim > this.g.length) throw new Error(`sequence model: dim ${next.dim} > 256`);
    const items = this.ctx.items;
    const rowOf = new Int32Array(Math.max(items.size, 16)).fill(-1);
    const itemOf = new Int32Array(next.vocab.length).fill(-1);
    next.vocab.forEach((id, r) => {
      const c = items.get(id);
      if (c < 0) return; // an item this process never saw cannot be served anyway
      itemOf[r] = c;
      rowOf[c] = r;
    });
    this.sessions.resize(next.dim);
    this.rowOf = rowOf;
    this.itemOf = itemOf;
    this.model = next;
    this.epoch++;
  }

  learn(event: ClickEvent): void {
    const i = this.ctx.items.intern(event.itemId);
    if (i < 0) return;
    this.observe(this.ctx.users.intern(event.userId), i, event);
  }

  observe(u: number, i: number, event: ClickEvent): void {
    this.popular?.observe(u, i, event);
    if (event.type === 'remove_from_cart') return;
    const s = this.sessions;
    s.ensure(this.ctx.users.size);
    this.rowOf = growI32(this.rowOf, this.ctx.items.size, -1);
    const hash = sessionHash(event.sessionId);
    const sess = this.o.acrossSessions ? 0 : hash;
    const lastTs = u < s.lastTs.length ? s.lastTs[u] : 0;
    const pushed = s.push(u, i, event.ts, sess, this.gapMs);
    if (pushed === 0) return;
    if (this.o.markovWeight > 0)
      this.markov.count(u, i, event.ts - lastTs, hash, pushed, this.ctx.items.size);
    const m = this.model;
    if (m !== undefined) {
      if (pushed === 2) {
        s.h.fill(0, u * m.dim, (u + 1) * m.dim);
        s.epochOf[u] = this.epoch;
      }
      // a stale state is rebuilt (with this item) when next needed
      if (s.epochOf[u] === this.epoch && this.rowOf[i] >= 0)
        gruStep(m, s.h, u * m.dim, this.rowOf[i], this.g);
    }
    if (this.o.trainEvery > 0) {
      this.buffer.push(u, i, pushed === 2);
      if (++this.events === this.applyAt) this.applyFit();
      if (this.events >= this.nextTrain) {
        // the gap doubles up to trainEvery: early fits on little data are cheap, and the
        // first few thousand test cases are otherwise served by a model that barely learned
        this.nextTrain =
          this.events + Math.min(this.o.trainEvery, Math.max(this.o.minTrainEvents, this.events));
        this.trainNow();
      }
    }
  }

  /**
   * Fits on the buffered events (the past only) and swaps the result in: at once, or with
   * `fitLag` > 0 that many events later (a pending fit is applied first; it warm-starts this one).
   */
  trainNow(): void {
    this.applyFit();
    const sessions = this.buffer.sessions();
    if (sessions.length === 0) return;
    const o = this.o;
    let positions = 0;
    for (const s of sessions) positions += s.length - 1;
    const more = Math.ceil(o.minFitPositions / positions);
    const epochs = Math.max(o.epochs, Math.min(o.maxEpochs, more));
    const opts = { ...o, epochs, version: `replay@${this.events}` };
    this.runner.start({ sessions, vocab: this.ctx.items.toArray(), opts, init: this.model });
    if (o.fitLag > 0) this.applyAt = this.events + o.fitLag;
    else this.applyFit();
  }

  /** Swaps in the pending fit, waiting for the worker if it is not done yet. */
  private applyFit(): void {
    this.applyAt = -1;
    const fit = this.runner.wait();
    if (fit === undefined) return;
    this.fits++;
    this.fitSeconds += fit.seconds;
    this.swapModel(fit.model);
  }

  /** Main-thread seconds spent on fits: fitting in-process, or waiting for the worker. */
  get fitMainSeconds(): number {
    return this.o.fitLag > 0 ? this.runner.waitedMs / 1000 : this.fitSeconds;
  }

  /** Makes u's GRU state current; false when there is no model or no session. */
  private current(u: number): boolean {
    const m = this.model;
    const s = this.sessions;
    if (m === undefined || u < 0 || u >= s.count.length || s.count[u] === 0) return false;
    if (s.epochOf[u] !== this.epoch) {
      const ho = u * m.dim;
      s.h.fill(0, ho, ho + m.dim);
      const n = Math.min(s.count[u], s.width);
      for (let back = n - 1; back >= 0; back--) {
        const r = this.rowOf[s.item(u, back)];
        if (r >= 0) gruStep(m, s.h, ho, r, this.g);
      }
      s.epochOf[u] = this.epoch;
    }
    return true;
  }

  /**
   * Scores every item for u and keeps the best `candidates`; returns how many (0: no state).
   * Without a model yet, only the prior's items are scored.
   */
  collect(u: number): number {
    this.scoredUser = -1;
    this.nCand = 0;
    const gru = this.current(u);
    const np = this.markov.prepare(u, this.ctx.items.size);
    if (!gru && np === 0) return 0;
    this.scoredUser = u;
    if (this.o.candidates <= 0) return 0;
    const k = Math.max(1, this.o.candidates);
    const heap = this.heap;
    heap.reset(k);
    if (gru) {
      const m = this.model as SequenceModel;
      const h = this.sessions.h;
      const ho = u * m.dim;
      const itemOf = this.itemOf;
      for (let r = 0; r < itemOf.length; r++) {
        const c = itemOf[r];
        if (c < 0) continue;
        const s = itemScore(m, h, ho, r) + this.markov.bonusOf(c);
        if (heap.accepts(c, s)) heap.push(c, s);
      }
    } else {
      for (let t = 0; t < np; t++) {
        const c = this.markov.touchedItem(t);
        const s = this.markov.bonusOf(c);
        if (heap.accepts(c, s)) heap.push(c, s);
      }
    }
    if (this.candIds.length < k) {
      this.candIds = new Int32Array(k);
      this.candScoresBuf = new Float64Array(k);
    }
    const n = (this.nCand = heap.drain(this.candIds, this.candScoresBuf));
    this.maxLogit = n > 0 ? this.candScoresBuf[0] : 0;
    this.scoredUser = u;
    return n;
  }

  candidate(t: number): number {
    return this.candIds[t];
  }

  /**
   * After collect(): adds w·score of each of the n items in `list` to `out`. Without a scan
   * (`candidates` 0) the scores are relative to the best of these items instead of the best of
   * the vocabulary, which the scan's own candidates are among anyway.
   */
  addScores(list: Int32Array, n: number, out: Float64Array, w: number): void {
    if (this.scoredUser < 0) return;
    if (this.o.candidates <= 0) {
      // the slots to score: every one, or the best rerankDepth by what `out` holds so far
      const depth = this.o.rerankDepth;
      let slots: Int32Array | undefined;
      let ns = n;
      if (depth > 0 && n > depth) {
        this.heap.reset(depth);
        for (let s = 0; s < n; s++) if (this.heap.accepts(s, out[s])) this.heap.push(s, out[s]);
        if (this.slots.length < depth) {
          this.slots = new Int32Array(depth);
          this.slotScores = new Float64Array(depth);
        }
        ns = this.heap.drain(this.slots, this.slotScores);
        slots = this.slots;
      }
      let max = -Infinity;
      for (let t = 0; t < ns; t++) max = Math.max(max, this.logit(list[slots ? slots[t] : t]));
      if (max === -Infinity) return;
      this.maxLogit = max;
      if (slots) {
        for (let t = 0; t < ns; t++) out[slots[t]] += w * this.score(list[slots[t]]);
        return;
      }
    }
    for (let s = 0; s < n; s++) out[s] += w * this.score(list[s]);
  }

  /** exp(logit − best logit) for the user of the last collect(): in (0, 1], 0 if unknown. */
  score(c: number): number {
    if (this.scoredUser < 0) return 0;
    const l = this.logit(c);
    return l === -Infinity ? 0 : Math.exp(l - this.maxLogit);
  }

  /**
   * GRU logit plus prior of c for the user of the last collect(); without a model the prior
   * alone, and −∞ for an item that neither knows.
   */
  private logit(c: number): number {
    const m = this.model;
    const p = this.markov.bonusOf(c);
    if (m === undefined) return p > 0 ? p : -Infinity;
    const r = c < this.rowOf.length ? this.rowOf[c] : -1;
    if (r < 0) return -Infinity;
    return itemScore(m, this.sessions.h, this.scoredUser * m.dim, r) + p;
  }

  reasonFor(u: number): string {
    return this.reasonOfUser(u);
  }

  private reasonOfUser(u: number): string {
    const s = this.sessions;
    this.lastItemOfUser = u >= 0 && u < s.count.length ? s.item(u, 0) : -1;
    return this.reason();
  }

  recommend(userId: string, k: number, exclude: ReadonlySet<string>): ScoredItem[] {
    const items = this.ctx.items;
    const u = this.ctx.users.get(userId);
    const m = this.model;
    const gru = m !== undefined && this.current(u);
    const np = this.markov.prepare(u, this.ctx.items.size);
    if (!gru && np === 0) {
      this.lastItemOfUser = -1;
      return this.popular ? this.popular.recommend(userId, k, exclude) : [];
    }
    const r = this.ranker;
    r.begin(k);
    if (gru) {
      const h = this.sessions.h;
      const ho = u * m.dim;
      const itemOf = this.itemOf;
      for (let row = 0; row < itemOf.length; row++) {
        const c = itemOf[row];
        if (c >= 0) r.offer(c, itemScore(m, h, ho, row) + this.markov.bonusOf(c), items, exclude);
      }
    } else {
      for (let t = 0; t < np; t++) {
        const c = this.markov.touchedItem(t);
        r.offer(c, this.markov.bonusOf(c), items, exclude);
      }
    }
    this.reasonOfUser(u);
    const out = r.finish(items, this.reason);
    if (out.length >= k || !this.popular) return out;
    const seen = new Set([...exclude, ...out.map((x) => x.itemId)]);
    const fill = this.popular.recommend(userId, k - out.length, seen);
    // the prior alone scores only the successors it saw, all > 0: popular items fill the list
    // below them (score 0), in popularity order
    return out.concat(gru ? fill : fill.map((x) => ({ ...x, score: 0 })));
  }

  save(w: SnapshotWriter): void {
    w.set('events', this.events);
    w.set('nextTrain', this.nextTrain);
    if (this.model) writeModel(w, this.model);
    writePending(w, this.runner.settle(), this.applyAt);
    this.sessions.save(w.scope('sessions.'), this.ctx.users.size);
    this.markov.save(w, this.ctx.users.size);
    this.buffer.save(w.scope('buffer.'));
    if (this.popular) this.popular.save(w.scope('popular.'));
  }

  load(r: SnapshotReader): void {
    this.events = r.num('events');
    this.nextTrain = r.num('nextTrain');
    this.sessions.load(r.scope('sessions.'), this.ctx.users.size);
    this.markov.load(r);
    this.buffer.load(r.scope('buffer.'));
    if (this.popular) this.popular.load(r.scope('popular.'));
    this.model = undefined;
    const m = readModel(r);
    if (m) this.swapModel(m);
    const pending = readPending(r);
    this.applyAt = pending ? pending.applyAt : -1;
    this.runner.hold(pending?.fit);
  }

  snapshot(): Uint8Array {
    return snapshotComponent(this);
  }

  restore(bytes: Uint8Array): void {
    restoreComponent(this, bytes);
  }
}
