import type { SnapshotReader, SnapshotWriter } from '../core/snapshot.js';
import type { SequenceModel } from './gru-model.js';

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
