import type { SnapshotReader, SnapshotWriter } from '../core/snapshot.js';
import type { SequenceModel } from './gru-model.js';
import type { SequenceFitResult } from './gru-train.js';

/** The GRU's weights in a snapshot scope (the serving model, or a worker fit not yet applied). */
export function writeModel(w: SnapshotWriter, m: SequenceModel): void {
  w.set('version', m.version);
  w.set('dim', m.dim);
  w.set('vocab', m.vocab);
  for (const k of ['emb', 'bias', 'wx', 'wh', 'bx', 'bh'] as const) w.array(k, m[k]);
}

/** The model written by writeModel in this scope, if any. */
export function readModel(r: SnapshotReader): SequenceModel | undefined {
  if (typeof r.value('version') !== 'string') return undefined;
  return {
    version: r.value('version') as string,
    dim: r.num('dim'),
    vocab: r.strings('vocab'),
    emb: r.f32('emb').slice(),
    bias: r.f32('bias').slice(),
    wx: r.f32('wx').slice(),
    wh: r.f32('wh').slice(),
    bx: r.f32('bx').slice(),
    bh: r.f32('bh').slice(),
  };
}

/**
 * A worker fit not yet applied and the event count it is swapped in at: part of the state, so a
 * restored model swaps it in where the original would have.
 */
export interface PendingFit {
  readonly fit: SequenceFitResult;
  readonly applyAt: number;
}

export function writePending(
  w: SnapshotWriter,
  fit: SequenceFitResult | undefined,
  applyAt: number,
): void {
  if (!fit) return;
  w.set('applyAt', applyAt);
  w.set('pending.seconds', fit.seconds);
  writeModel(w.scope('pending.'), fit.model);
}

/** The fit written by writePending; its loss and positions are not kept. */
export function readPending(r: SnapshotReader): PendingFit | undefined {
  const model = readModel(r.scope('pending.'));
  if (!model) return undefined;
  const applyAt = r.num('applyAt');
  return {
    fit: { model, loss: Number.NaN, positions: 0, seconds: r.num('pending.seconds') },
    applyAt,
  };
}
