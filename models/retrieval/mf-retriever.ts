import type { TopK } from '../core/topk.js';
import type { MfRecommender } from '../mf.js';
import { exactSearchInto } from './exact.js';
import { IvfIndex, type IvfOptions } from './ivf-index.js';

export interface MfRetrieverOptions {
  /** Below this many items an exact scan is cheaper than probing an index (default 20,000). */
  minIndexItems?: number;
  /** Item rows re-read from the live model per learned event (default 8). */
  syncPerEvent?: number;
  /** Learned events between centre refreshes of the index (default 50,000). */
  recenterEvery?: number;
  /** The index is rebuilt from scratch when the catalogue grew this much since the build (2). */
  rebuildGrowth?: number;
  ivf?: IvfOptions;
}

const DEFAULTS = {
  minIndexItems: 20_000,
  syncPerEvent: 8,
  recenterEvery: 50_000,
  rebuildGrowth: 2,
};

/**
 * Top-K items by MF score p_u·q_i + b_i without scoring the whole catalogue. The index works on
 * a mirror of the item factors with the bias as one more coordinate ([q_i, b_i], queried with
 * [p_u, 1]), so the bias needs no special case. MF changes factor rows on every event; the
 * mirror follows round-robin (`syncPerEvent` rows per event, each re-placed in its now nearest
 * cell), and the centres are refreshed every `recenterEvery` events. So retrieval works on
 * factors at most catalogue/syncPerEvent events old; the ranker re-scores what it retrieves
 * with the live model.
 */
export class MfRetriever {
  private readonly o: typeof DEFAULTS & { ivf: IvfOptions };
  private readonly dim: number;
  private mirror = new Float32Array(0);
  private rows = 0;
  private index: IvfIndex | undefined;
  private builtAt = 0;
  private cursor = 0;
  private sinceRecenter = 0;
  private readonly q: Float32Array;

  constructor(
    private readonly mf: MfRecommender,
    opts: MfRetrieverOptions = {},
  ) {
    this.o = {
      ...DEFAULTS,
      ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
      ivf: opts.ivf ?? {},
    };
    this.dim = mf.o.dim + 1;
    this.q = new Float32Array(this.dim);
  }

  /** Whether queries currently go through the IVF index (false: exact scan of the mirror). */
  get indexed(): boolean {
    return this.index !== undefined;
  }

  private copyRow(i: number): void {
    const d = this.mf.o.dim;
    const D = this.dim;
    const Q = this.mf.Q.data;
    for (let x = 0; x < d; x++) this.mirror[i * D + x] = Q[i * d + x];
    this.mirror[i * D + d] = this.mf.biasOf(i);
  }

  /** Grows the mirror to the model's rows (new items are copied and indexed at once). */
  private grow(): void {
    const n = this.mf.Q.rows;
    if (n <= this.rows) return;
    if (n * this.dim > this.mirror.length) {
      const next = new Float32Array(Math.max(n * 2, 1024) * this.dim);
      next.set(this.mirror.subarray(0, this.rows * this.dim));
      this.mirror = next;
      this.index?.setSource(this.mirror);
    }
    for (let i = this.rows; i < n; i++) this.copyRow(i);
    const from = this.rows;
    this.rows = n;
    if (!this.index && n >= this.o.minIndexItems) this.build();
    else if (this.index && n >= this.builtAt * this.o.rebuildGrowth) this.build();
    else if (this.index) for (let i = from; i < n; i++) this.index.upsert(i);
  }

  private build(): void {
    this.index = new IvfIndex(this.dim, this.o.ivf);
    this.index.build(this.mirror, this.rows);
    this.builtAt = this.rows;
    this.sinceRecenter = 0;
  }

  /** Call after each learned event: keeps the mirror and the index following the model. */
  afterLearn(): void {
    this.grow();
    const n = this.rows;
    if (n === 0) return;
    for (let t = 0; t < this.o.syncPerEvent; t++) {
      const i = this.cursor;
      this.cursor = (this.cursor + 1) % n;
      this.copyRow(i);
      this.index?.upsert(i);
    }
    if (this.index && ++this.sinceRecenter >= this.o.recenterEvery) {
      this.sinceRecenter = 0;
      this.index.recenter();
    }
  }

  /** Moves the index's centres to its rows' current positions (also done every recenterEvery). */
  recenter(): void {
    this.index?.recenter();
    this.sinceRecenter = 0;
  }

  /** Offers user u's best items by MF score to `out`; `skip` drops items before they rank. */
  searchInto(u: number, out: TopK, skip?: (item: number) => boolean): void {
    if (!this.mf.knows(u)) return;
    this.grow();
    const d = this.mf.o.dim;
    const P = this.mf.P.data;
    for (let x = 0; x < d; x++) this.q[x] = P[u * d + x];
    this.q[d] = 1;
    if (this.index) this.index.searchInto(this.q, 0, out, undefined, skip);
    else exactSearchInto(this.mirror, this.rows, this.dim, this.q, 0, out, skip);
  }
}
