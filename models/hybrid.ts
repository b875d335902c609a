import type { ClickEvent, ItemEvent, ScoredItem } from './event.js';
import type { Recommender } from './recommender.js';
import { growF64, growI32 } from './core/arrays.js';
import { BackfillOrder } from './core/backfill-order.js';
import { ModelContext, Ranker } from './core/context.js';
import { checkModel, stripUndefined } from './core/options.js';
import { SnapshotReader, SnapshotWriter, decodeSnapshot } from './core/snapshot.js';
import { allSteps } from './core/steps.js';
import { isBuyCode } from './core/weights.js';
import { ContentRecommender } from './content.js';
import {
  CHANNELS,
  CH_CONTENT,
  CH_INTENT,
  CH_KNN,
  CH_MF,
  CH_POP,
  CH_RECENCY,
  CH_SEQUENCE,
  CH_TREND,
  channelWeights,
  strongestChannel,
} from './hybrid-channels.js';
import {
  DEFAULT_HYBRID_WEIGHTS,
  HYBRID_CONTENT_DEFAULTS,
  HYBRID_KNN_DEFAULTS,
  HYBRID_MF_DEFAULTS,
  type HybridOptions,
} from './hybrid-options.js';
import { SessionIntent } from './intent.js';
import { ItemKnnRecommender } from './itemknn.js';
import { MfRecommender } from './mf.js';
import { MfRerank } from './mf-rerank.js';
import { PopularRecommender } from './popular.js';
import { SequenceRecommender } from './sequence/sequence.js';
import { TrendingRecommender } from './trending.js';
import type { ItemDeltaRecord } from './core/item-deltas.js';
import {
  applyHybridDeltas,
  learnUserSide,
  recordHybridDeltas,
  takeHybridDeltas,
} from './hybrid-replica.js';

export {
  DEFAULT_HYBRID_WEIGHTS,
  HYBRID_CONTENT_DEFAULTS,
  HYBRID_KNN_DEFAULTS,
  HYBRID_MF_DEFAULTS,
  type HybridOptions,
  type HybridWeights,
} from './hybrid-options.js';

/**
 * The default model: candidates from co-visitation, content similarity, trending and the
 * user's own recent items; every candidate scored by each enabled component, each score
 * normalised to [0, 1] over the candidate set, then blended linearly. The reason shown is
 * that of the component that contributed most to the item's score.
 *
 * "recency" re-surfaces items the user looked at or carted recently (not bought: those are
 * excluded by the caller); on purchase-only streams it has nothing to offer.
 */
export class HybridRecommender implements Recommender {
  readonly name: string = 'default';
  readonly ctx = new ModelContext();
  readonly knn: ItemKnnRecommender;
  readonly content: ContentRecommender | undefined;
  readonly mf: MfRecommender | undefined;
  readonly trending: TrendingRecommender | undefined;
  readonly popular: PopularRecommender | undefined;
  readonly intent: SessionIntent | undefined;
  readonly sequence: SequenceRecommender | undefined;
  private readonly w: Float64Array;
  private readonly trendingCandidates: number;
  private readonly intentAgreement: number;

  private stamp = new Int32Array(0);
  private epoch = 0;
  private list = new Int32Array(0);
  private n = 0;
  private slotOf = new Int32Array(0);
  /** per candidate slot: the blend of every component but MF */
  private cheap = new Float64Array(0);
  private readonly ranker = new Ranker();
  private readonly rerank: MfRerank;
  // the last call's normalisers, so reasons can be worked out for the winners only
  private user = -1;
  private wk = 0;
  private wc = 0;
  private wt = 0;
  private wp = 0;
  private readonly reasonOf = (c: number): string => this.reasonFor(c);
  private readonly parts = new Float64Array(CHANNELS);
  private readonly backfillOrder = new BackfillOrder();
  /** bumped by everything that can change item scores: the backfill ranking's validity */
  private gen = 0;

  constructor(opts: HybridOptions = {}) {
    const weights = { ...DEFAULT_HYBRID_WEIGHTS, ...stripUndefined(opts.weights ?? {}) };
    this.w = channelWeights(weights);
    this.trendingCandidates = opts.trendingCandidates ?? 20;
    this.rerank = new MfRerank(opts.rerankDepth ?? 25);
    this.intentAgreement = opts.intentAgreement ?? 0;
    // item-kNN always runs: its user history also feeds the recency channel
    this.knn = new ItemKnnRecommender(
      { ...HYBRID_KNN_DEFAULTS, ...stripUndefined(opts.itemknn ?? {}) },
      this.ctx,
    );
    this.content =
      weights.content > 0
        ? new ContentRecommender(
            { ...HYBRID_CONTENT_DEFAULTS, ...stripUndefined(opts.content ?? {}) },
            this.ctx,
          )
        : undefined;
    this.mf =
      weights.mf > 0
        ? new MfRecommender({ ...HYBRID_MF_DEFAULTS, ...stripUndefined(opts.mf ?? {}) }, this.ctx)
        : undefined;
    this.trending =
      weights.trending > 0 || this.trendingCandidates > 0
        ? new TrendingRecommender(
            { ...opts.trending, topSize: Math.max(this.trendingCandidates, 1) },
            this.ctx,
          )
        : undefined;
    this.popular = weights.popular > 0 ? new PopularRecommender(opts.popular, this.ctx) : undefined;
    this.intent = weights.intent > 0 ? new SessionIntent(opts.intent, this.ctx) : undefined;
    this.sequence =
      weights.sequence > 0 ? new SequenceRecommender(opts.sequence, this.ctx) : undefined;
  }

  learn(event: ClickEvent): void {
    this.gen++;
    const i = this.ctx.items.intern(event.itemId);
    if (i < 0) return; // the item space is full (limits.items)
    const u = this.ctx.users.intern(event.userId);
    if (!this.ctx.userOnly) this.ctx.deltas?.begin(event.ts);
    this.knn.observe(u, i, event);
    this.content?.observe(u, i, event);
    this.mf?.observe(u, i, event);
    this.trending?.observe(u, i, event);
    this.popular?.observe(u, i, event);
    this.intent?.observe(u, i, event);
    this.sequence?.observe(u, i, event);
  }

  learnItem(item: ItemEvent): void {
    this.gen++;
    this.content?.learnItem(item);
    this.trending?.learnItem(item);
    this.intent?.learnItem(item);
  }

  /** The item state replica (models/hybrid-replica.ts, docs/scaling.md). */
  recordItemDeltas(sources = 1): void {
    recordHybridDeltas(this, sources);
  }

  learnUser(event: ClickEvent): void {
    this.gen++;
    learnUserSide(this, event);
  }

  takeItemDeltas(partitions: number): ItemDeltaRecord[] {
    return takeHybridDeltas(this, partitions);
  }

  applyItemDeltas(record: ItemDeltaRecord): void {
    this.gen++;
    applyHybridDeltas(this, record);
  }

  private ensure(items: number): void {
    if (items <= this.stamp.length) return;
    this.stamp = growI32(this.stamp, items);
    this.slotOf = growI32(this.slotOf, items);
    this.list = growI32(this.list, items);
    this.cheap = growF64(this.cheap, items);
    this.rerank.ensure(items);
  }

  private addCandidate(c: number): void {
    if (this.stamp[c] === this.epoch) return;
    this.stamp[c] = this.epoch;
    this.slotOf[c] = this.n;
    this.list[this.n++] = c;
  }

  recommend(userId: string, k: number, exclude: ReadonlySet<string>): ScoredItem[] {
    const items = this.ctx.items;
    this.ensure(items.size);
    const u = this.ctx.users.get(userId);
    this.user = u;
    this.epoch++;
    this.n = 0;

    // candidates; item-kNN's come first, so slots [0, nk) are exactly its candidates
    const knn = this.knn;
    const nk = knn.collect(u);
    for (let t = 0; t < nk; t++) this.addCandidate(knn.candidate(t));
    const content = this.content;
    const nc = content ? content.collect(u) : 0;
    for (let t = 0; t < nc; t++) this.addCandidate(content!.candidate(t));
    const trending = this.trending;
    if (trending && this.trendingCandidates > 0) {
      const nt = Math.min(trending.top(), this.trendingCandidates);
      for (let t = 0; t < nt; t++) this.addCandidate(trending.topIds[t]);
    }
    const intent = this.intent;
    const ni = intent ? intent.collect(u) : 0;
    for (let t = 0; t < ni; t++) this.addCandidate(intent!.candidate(t));
    const seq = this.sequence;
    const nq = seq ? seq.collect(u) : 0;
    for (let t = 0; t < nq; t++) this.addCandidate(seq!.candidate(t));
    const h = knn.history;
    const hLen = u >= 0 && u < h.len.length ? h.len[u] : 0;
    const wr = this.w[CH_RECENCY];
    if (wr > 0) for (let p = 0; p < hLen; p++) this.addCandidate(h.items[h.start(u) + p]);

    // each component's scores are scaled to [0, 1] by its best candidate (popularity by the
    // catalogue's best), then blended
    const n = this.n;
    const list = this.list;
    const cheap = this.cheap;
    const maxK = knn.finalizeScores();
    const maxC = content ? content.maxScore() : 0;
    const popular = this.popular;
    const wk = (this.wk = maxK > 0 ? this.w[CH_KNN] / maxK : 0);
    const wc = (this.wc = content && maxC > 0 ? this.w[CH_CONTENT] / maxC : 0);
    const wt = (this.wt =
      trending && trending.maxScore > 0 ? this.w[CH_TREND] / trending.maxScore : 0);
    const wp = (this.wp = popular && popular.maxPop > 0 ? this.w[CH_POP] / popular.maxPop : 0);
    for (let s = 0; s < nk; s++) cheap[s] = wk * knn.score(list[s]);
    const agree = this.intentAgreement;
    if (ni > 0 && agree > 0) {
      for (let s = 0; s < nk; s++) {
        const a = intent!.agreement(list[s]);
        if (a >= 0) cheap[s] *= 1 - agree + agree * a;
      }
    }
    for (let s = nk; s < n; s++) cheap[s] = 0;
    if (wc > 0)
      for (let t = 0; t < nc; t++) {
        const c = content!.candidate(t);
        cheap[this.slotOf[c]] += wc * content!.score(c);
      }
    if (wt > 0) {
      const ts = trending!.score;
      for (let s = 0; s < n; s++) cheap[s] += wt * ts[list[s]];
    }
    if (wp > 0) {
      const ps = popular!.pop;
      for (let s = 0; s < n; s++) cheap[s] += wp * ps[list[s]];
    }
    const wi = this.w[CH_INTENT];
    for (let t = 0; t < ni; t++) {
      const c = intent!.candidate(t);
      cheap[this.slotOf[c]] += wi * intent!.score(c);
    }
    // the GRU scores every candidate, not only its own: it knows what follows this session
    const wq = this.w[CH_SEQUENCE];
    if (seq) seq.addScores(list, n, cheap, wq);
    if (wr > 0) {
      for (let p = 0; p < hLen; p++) {
        const e = h.start(u) + p;
        cheap[this.slotOf[h.items[e]]] += this.recencyPart(p, h.types[e]);
      }
    }

    // MF is the costly scorer, so it only re-ranks the best `rerankDepth` of the cheap blend
    const mf = this.mf;
    if (mf === undefined || !mf.knows(u) || !(this.w[CH_MF] > 0)) {
      const r = this.ranker;
      r.begin(k);
      for (let s = 0; s < n; s++) r.offer(list[s], cheap[s], items, exclude);
      if (r.heap.size < k) this.backfill(r, exclude);
      return r.finish(items, this.reasonOf);
    }

    const out = this.ranker;
    const cand = { list, cheap, n, epoch: this.epoch };
    this.rerank.run(mf, u, this.w[CH_MF], cand, k, items, exclude, out);
    if (out.heap.size < k) this.backfill(out, exclude);
    return out.finish(items, this.reasonOf);
  }

  /**
   * Too few candidates (a new user, a tiny catalogue, a long exclusion list): rank the rest of
   * the catalogue by the popularity part of the blend so the list still has k items.
   */
  private backfill(r: Ranker, exclude: ReadonlySet<string>): void {
    const s = { trend: this.trending?.score, wt: this.wt, pop: this.popular?.pop, wp: this.wp };
    this.backfillOrder.fill(r, s, this.ctx.items, exclude, this.stamp, this.epoch, this.gen);
  }

  /** Recency bonus of the p-th most recent item: newer first, carts above views. */
  private recencyPart(p: number, type: number): number {
    return (this.w[CH_RECENCY] * (isBuyCode(type) ? 1 : 0.5)) / (1 + p);
  }

  /**
   * The reason of the component that contributed most to c's score in the last call, worked
   * out only for the items actually returned.
   */
  private reasonFor(c: number): string {
    const content = this.content;
    // each channel's contribution to c's score, into a reused buffer: this runs for every
    // returned item of every list, so it allocates nothing
    const parts = this.parts;
    parts[CH_KNN] = this.wk * this.knn.scoreOrZero(c);
    parts[CH_CONTENT] = content && this.wc > 0 ? this.wc * content.scoreOrZero(c) : 0;
    parts[CH_TREND] = this.trending && this.wt > 0 ? this.wt * this.trending.score[c] : 0;
    parts[CH_POP] = this.popular && this.wp > 0 ? this.wp * this.popular.pop[c] : 0;
    parts[CH_INTENT] = this.intent ? this.w[CH_INTENT] * this.intent.score(c) : 0;
    parts[CH_SEQUENCE] = this.sequence ? this.w[CH_SEQUENCE] * this.sequence.score(c) : 0;
    parts[CH_MF] = this.rerank.partOf(c, this.epoch);
    const { channel: ch, part: best } = strongestChannel(parts);
    const h = this.knn.history;
    const u = this.user;
    let recent = '';
    if (this.w[CH_RECENCY] > 0 && u >= 0 && u < h.len.length) {
      for (let p = 0, base = h.start(u); p < h.len[u]; p++) {
        if (h.items[base + p] !== c) continue;
        const type = h.types[base + p];
        if (this.recencyPart(p, type) > best) {
          recent = isBuyCode(type) ? 'still in your cart' : 'you viewed this recently';
        }
        break;
      }
    }
    if (recent !== '') return recent;
    switch (ch) {
      case CH_KNN:
        return this.knn.reasonFor(c);
      case CH_CONTENT:
        return content!.reasonFor(c);
      case CH_MF:
        return 'matches your taste';
      case CH_TREND:
        return this.trending!.reasonFor(u, c);
      case CH_INTENT:
        return this.intent!.reasonFor(c);
      case CH_SEQUENCE:
        return this.sequence!.reasonFor(u);
      default:
        // popularity, or a backfilled item nothing in particular speaks for
        return 'popular now';
    }
  }

  snapshot(): Uint8Array {
    return allSteps(this.snapshotSteps());
  }

  /** A part per heavy component (item-kNN's two, content), then the encoding: each ≤ ~60 ms. */
  *snapshotSteps(): Generator<void, Uint8Array, undefined> {
    const w = new SnapshotWriter();
    w.set('model', this.name);
    this.ctx.save(w);
    yield* this.knn.saveSteps(w.scope('itemknn.'));
    yield;
    this.content?.save(w.scope('content.'));
    yield;
    this.mf?.save(w.scope('mf.'));
    this.trending?.save(w.scope('trending.'));
    this.popular?.save(w.scope('popular.'));
    this.intent?.save(w.scope('intent.'));
    this.sequence?.save(w.scope('sequence.'));
    yield;
    return w.encode();
  }

  restore(bytes: Uint8Array): void {
    this.gen++;
    const r = new SnapshotReader(decodeSnapshot(bytes));
    checkModel(r, this.name);
    this.ctx.load(r);
    this.knn.load(r.scope('itemknn.'));
    this.content?.load(r.scope('content.'));
    this.mf?.load(r.scope('mf.'));
    this.trending?.load(r.scope('trending.'));
    this.popular?.load(r.scope('popular.'));
    // a snapshot from before the intent component restores with an empty intent (it refills
    // within a session), so upgrading does not throw the learned model away
    const ri = r.scope('intent.');
    if (ri.value('categories') !== undefined) this.intent?.load(ri);
    if (this.sequence) this.sequence.load(r.scope('sequence.'));
  }
}
