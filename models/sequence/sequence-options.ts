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
};
