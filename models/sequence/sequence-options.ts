import type { SequenceFitOptions } from './gru-train.js';

/** Options of the GRU session model (sequence.ts). */
export interface SequenceOptions extends Omit<SequenceFitOptions, 'version'> {
  /** Gap after which the next event starts a new session, minutes (default 60). */
  sessionGapMinutes?: number;
  /**
   * Run the GRU over the user's recent history across sessions instead of restarting it with
   * every session (default true: a session's first events then still know the user's taste;
   * see docs/BENCHMARKS.md). The state then covers the last `maxLength` items after a swap.
   */
  acrossSessions?: boolean;
  /**
   * Best next items offered as candidates to the hybrid (default 30), found by scoring the whole
   * vocabulary for every list. 0: no scan; the GRU only scores the other components'
   * candidates (addScores), which costs candidates × dim instead of vocabulary × dim.
   */
  candidates?: number;
  /**
   * With `candidates` 0: the GRU scores only the best this many of the list by the blend's
   * other scores (as MF re-ranks the best few), not all of them; 0 (default): all.
   */
  rerankDepth?: number;
  /**
   * Refit in-process every this many events on the last `trainWindow` (replay and benches: the
   * prequential protocol then only ever trains on the past). 0 (default): the weights only come
   * from swapModel(), i.e. from the nearline trainer.
   */
  trainEvery?: number;
  /** Events kept for in-process refits (default 50,000; bounded ring, 9 bytes each). */
  trainWindow?: number;
  /**
   * The first in-process fit comes after this many events (default 1,000); the gap between
   * fits then doubles up to `trainEvery`.
   */
  minTrainEvents?: number;
  /**
   * An in-process fit makes at least this many next-item predictions (extra epochs, at most 5
   * in all), so the first fits on little data still learn something (default 20,000).
   */
  minFitPositions?: number;
  /** Upper bound of those extra epochs (default 5). */
  maxEpochs?: number;
  /**
   * 0 (default): an in-process fit runs synchronously inside the event that triggers it. N > 0:
   * it runs on a worker thread on a snapshot of the buffered (already tested) events and its
   * weights are swapped in exactly N events later (or at the next fit, if that comes first),
   * waiting for the worker then; results do not depend on timing, only the wait does.
   */
  fitLag?: number;
  /**
   * Weight of the Markov prior (transitions.ts) added to the GRU's logits: an item that
   * followed the session's last items gets β·Σ_d (1/d)·ln(1 + p(item | d-th last) / ε), where p is
   * the observed share of that item among the successors of that earlier item. Counted
   * online from every event, so it also serves before the first fit. 0: the GRU alone.
   * Default 30, tuned on the sequential stream of seed 2 (docs/BENCHMARKS.md): the prior then
   * orders the items it has evidence for, and the GRU breaks near-ties and fills the list
   * (β 1: HR@10 0.563, 3: 0.593, 10: 0.629, 30: 0.643, 100: 0.641; prior alone 0.637).
   */
  markovWeight?: number;
  /**
   * How many of the session's last items the prior looks back over and counts pairs within
   * (default 3; seed 2: 1 item 0.569, 2 0.643, 3 0.645, 5 0.645, prior alone).
   */
  markovSpan?: number;
  /**
   * ε above (default 0.3): small, and several earlier items must all point at an item (a
   * product of their evidence, which tells which path the session is on); large, and their
   * evidence adds up (seed 2, prior alone: ε 0.01 0.638, 0.05 0.645, 0.3 0.645, 2 0.645).
   */
  markovEps?: number;
  /** Successors kept per item (bound of transitions.ts; default 32). */
  markovWidth?: number;
}

export const SEQUENCE_DEFAULTS = {
  dim: 32,
  maxLength: 20,
  sessionGapMinutes: 60,
  acrossSessions: true,
  candidates: 30,
  rerankDepth: 0,
  trainEvery: 0,
  trainWindow: 50_000,
  minTrainEvents: 1_000,
  /** passes of an in-process refit (the nearline trainer has its own, `sequence.trainer.epochs`) */
  epochs: 3,
  minFitPositions: 20_000,
  maxEpochs: 5,
  fitLag: 0,
  markovWeight: 30,
  markovSpan: 3,
  markovEps: 0.3,
  markovWidth: 32,
};
