import { growF64, growI32 } from '../core/arrays.js';
import type { SnapshotReader, SnapshotWriter } from '../core/snapshot.js';
import type { SEQUENCE_DEFAULTS } from './sequence-options.js';
import type { UserSessions } from './sessions.js';
import { Transitions } from './transitions.js';

type PriorOptions = Pick<
  typeof SEQUENCE_DEFAULTS,
  'markovWidth' | 'markovSpan' | 'markovWeight' | 'markovEps' | 'sessionGapMinutes'
>;

/**
 * The sequence model's Markov prior (sequence.ts adds it to the GRU's logits): item → next-item
 * counts (transitions.ts), counted within each user's current session, and for one user at a
 * time the bonus β·Σ_d (1/d)·ln(1 + p(item | d-th last item) / ε) of every item the counts know.
 */
export class MarkovPrior {
  readonly transitions: Transitions;
  /**
   * Items of u's current session (sessionId / gap), at most markovSpan: across-session GRU
   * states run over a longer history, but pairs are only counted and used within a session.
   * Per user row (bounded by limits.users): 8 bytes.
   */
  private sessLen = new Int32Array(0);
  private sessId = new Int32Array(0);
  /** the bonus per item for the user of the last prepare() (0 unless in `touched`) */
  private bonus = new Float64Array(0);
  private touched = new Int32Array(0);
  private nTouched = 0;
  private readonly gapMs: number;

  constructor(
    private readonly o: PriorOptions,
    private readonly sessions: UserSessions,
  ) {
    this.transitions = new Transitions(o.markovWidth);
    this.gapMs = o.sessionGapMinutes * 60_000;
  }

  /** The user row was recycled: its session is over. */
  forget(u: number): void {
    if (u < this.sessLen.length) this.sessLen[u] = 0;
  }

  /**
   * Counts (d-th last item of u's session → i) for d = 1..markovSpan, with weight 1/d; i has
   * just been pushed onto u's ring. A session starts with a new session id or after the gap.
   */
  count(u: number, i: number, dt: number, hash: number, pushed: number, items: number): void {
    if (u >= this.sessLen.length) {
      this.sessLen = growI32(this.sessLen, u + 1);
      this.sessId = growI32(this.sessId, u + 1);
    }
    const fresh =
      pushed === 2 ||
      this.sessLen[u] === 0 ||
      dt > this.gapMs ||
      (hash !== 0 && hash !== this.sessId[u]);
    this.sessId[u] = hash;
    const len = fresh ? 0 : this.sessLen[u];
    const t = this.transitions;
    t.ensure(items);
    for (let d = 1; d <= len; d++) {
      const x = this.sessions.item(u, d);
      if (x >= 0 && x !== i) t.add(x, i, 1 / d);
    }
    this.sessLen[u] = Math.min(len + 1, this.o.markovSpan);
  }

  /**
   * Fills `bonus` with the prior of u's next item: Σ_d (1/d)·ln(1 + p(c | d-th last) / ε) for
   * every successor c of the session's last markovSpan items; `touched` lists them. Returns
   * how many. Every other item's bonus is 0.
   */
  prepare(u: number, items: number): number {
    const bonus = this.bonus;
    for (let t = 0; t < this.nTouched; t++) bonus[this.touched[t]] = 0;
    this.nTouched = 0;
    const s = this.sessions;
    if (this.o.markovWeight <= 0 || u < 0 || u >= this.sessLen.length) return 0;
    const len = Math.min(this.sessLen[u], s.count[u], s.width);
    const tr = this.transitions;
    if (this.bonus.length < items) {
      this.bonus = growF64(this.bonus, items);
      this.touched = growI32(this.touched, items);
    }
    const b = this.bonus;
    const eps = this.o.markovEps;
    for (let d = 1; d <= len; d++) {
      const x = s.item(u, d - 1);
      if (x < 0 || x >= tr.size || tr.total[x] <= 0) continue;
      const o = x * tr.width;
      const norm = 1 / (tr.total[x] * eps);
      for (let k = 0; k < tr.len[x]; k++) {
        const c = tr.succ[o + k];
        if (b[c] === 0) this.touched[this.nTouched++] = c;
        b[c] += Math.log1p(tr.cnt[o + k] * norm) / d;
      }
    }
    const w = this.o.markovWeight;
    for (let t = 0; t < this.nTouched; t++) b[this.touched[t]] *= w;
    return this.nTouched;
  }

  /** The bonus of item c for the user of the last prepare(). */
  bonusOf(c: number): number {
    return c < this.bonus.length ? this.bonus[c] : 0;
  }

  /** The t-th item with a bonus (t below what the last prepare() returned). */
  touchedItem(t: number): number {
    return this.touched[t];
  }

  save(w: SnapshotWriter, users: number): void {
    w.set('markov', 1);
    this.transitions.save(w.scope('transitions.'));
    const n = Math.min(this.sessLen.length, users);
    w.array('sessLen', this.sessLen, n);
    w.array('sessId', this.sessId, n);
  }

  load(r: SnapshotReader): void {
    // snapshots from before the prior have none: it starts empty then
    this.transitions.load(r.value('markov') === 1 ? r.scope('transitions.') : undefined);
    this.sessLen = r.value('markov') === 1 ? r.i32('sessLen').slice() : new Int32Array(0);
    this.sessId = r.value('markov') === 1 ? r.i32('sessId').slice() : new Int32Array(0);
  }
}
