import { describe, expect, it } from 'vitest';
import type { ClickEvent } from '../../models/event.js';
import { createRecommender } from '../../models/registry.js';
import { loadTfSync } from '../../models/ranking/tf.js';
import {
  checkSequenceModel,
  gruStep,
  itemScore,
  type SequenceModel,
} from '../../models/sequence/gru-model.js';
import { fitSequenceModel } from '../../models/sequence/gru-train.js';
import { SequenceRecommender, type SequenceOptions } from '../../models/sequence/sequence.js';
import {
  buildSessions,
  encodeSessions,
  sessionHitRate,
  type SessionRow,
} from '../../models/sequence/session-data.js';

/**
 * The GRU session model on toy data small enough for CI (a few seconds): ten disjoint chains
 * A → B → C walked in order by many users. After a fit, one step of a chain must predict the
 * next; snapshots restore identical lists; a swapped-in model serves at once, its user states
 * rebuilt from the session rings.
 */

const CHAINS = 10;
const item = (chain: number, step: number): string => `c${chain}s${step}`;

/** `sessions` sessions, each walking one chain in full, an hour apart per user. */
function chainStream(sessions: number, users = 40): ClickEvent[] {
  const out: ClickEvent[] = [];
  let n = 0;
  for (let s = 0; s < sessions; s++) {
    const chain = (s * 7) % CHAINS;
    const user = `u${s % users}`;
    const t0 = Date.UTC(2026, 0, 1) + s * 3_600_000 * 2;
    for (let step = 0; step < 3; step++)
      out.push({
        eventId: `e${n++}`,
        ts: t0 + step * 60_000,
        userId: user,
        itemId: item(chain, step),
        type: 'add_to_cart',
      });
  }
  return out;
}

const TOY: SequenceOptions = {
  // one GRU run per session (GRU4Rec proper): the chains are sessions
  acrossSessions: false,
  dim: 16,
  negatives: 16,
  learningRate: 0.03,
  epochs: 8,
  trainEvery: 100_000, // fitted explicitly with trainNow()
  trainWindow: 5_000,
  minTrainEvents: 100_000,
};

let fitted: Uint8Array | undefined;

/** A recommender that learned the chains and was fitted once; the fit is shared between tests. */
function trained(): SequenceRecommender {
  if (!fitted) {
    const rec = new SequenceRecommender(TOY);
    for (const e of chainStream(400)) rec.learn(e);
    rec.trainNow();
    fitted = rec.snapshot();
  }
  const copy = new SequenceRecommender(TOY);
  copy.restore(fitted);
  return copy;
}

/** Top-1 accuracy of "next step of the chain" for new users, one per chain and prefix. */
function nextStepAccuracy(rec: SequenceRecommender): number {
  let hits = 0;
  let cases = 0;
  const t0 = Date.UTC(2026, 5, 1);
  for (let c = 0; c < CHAINS; c++) {
    for (let step = 0; step < 2; step++) {
      rec.learn({
        eventId: `q${c}-${step}`,
        ts: t0 + c * 7_200_000 + step * 60_000,
        userId: `new${c}`,
        itemId: item(c, step),
        type: 'view',
      });
      const top = rec.recommend(`new${c}`, 1, new Set());
      cases++;
      if (top[0]?.itemId === item(c, step + 1)) hits++;
    }
  }
  return hits / cases;
}

// fits take a few seconds, more on a loaded machine
describe('sequence model (GRU4Rec-style)', { timeout: 60_000 }, () => {
  it('has the documented shapes and rejects a model whose arrays do not fit', () => {
    const rec = trained();
    const m = rec.currentModel as SequenceModel;
    const V = 3 * CHAINS;
    expect(m.vocab.length).toBe(V);
    expect([m.emb.length, m.bias.length, m.wx.length, m.wh.length, m.bx.length]).toEqual([
      V * 16,
      V,
      16 * 48,
      16 * 48,
      48,
    ]);
    expect(() => checkSequenceModel({ ...m, bias: new Float32Array(V - 1) })).toThrow(/shapes/);
    expect(() => rec.swapModel({ ...m, wx: new Float32Array(3) })).toThrow(/shapes/);
    expect(rec.currentModel).toBe(m);
  });

  it('learns a deterministic A → B → C pattern to near-perfect next-item accuracy', () => {
    // the GRU alone: the Markov prior would know the chains before any fit
    // (models-sequence-prior.test.ts)
    const before = new SequenceRecommender({ ...TOY, markovWeight: 0 });
    for (const e of chainStream(400)) before.learn(e);
    // untrained, it can only fall back to popularity: every item is equally popular
    expect(nextStepAccuracy(before)).toBeLessThan(0.3);
    expect(nextStepAccuracy(trained())).toBeGreaterThanOrEqual(0.95);
  });

  it('serves exactly what the TensorFlow graph it was trained with computes', () => {
    const { tf } = loadTfSync();
    const m = trained().currentModel as SequenceModel;
    const d = m.dim;
    const rows = [3, 4, 5];
    const h = new Float32Array(d);
    const g = new Float32Array(6 * d);
    for (const r of rows) gruStep(m, h, 0, r, g);
    // the same recurrence written with tensor ops, as gru-train.ts does
    const ref = tf.tidy(() => {
      const Wx = tf.tensor2d(m.wx, [d, 3 * d]);
      const Wh = tf.tensor2d(m.wh, [d, 3 * d]);
      let ht = tf.zeros([1, d]);
      for (const r of rows) {
        const x = tf.tensor2d(m.emb.subarray(r * d, (r + 1) * d), [1, d]);
        const gx = tf.add(tf.matMul(x, Wx), tf.tensor1d(m.bx));
        const gh = tf.add(tf.matMul(ht, Wh), tf.tensor1d(m.bh));
        const zr = tf.sigmoid(tf.add(gx.slice([0, 0], [1, 2 * d]), gh.slice([0, 0], [1, 2 * d])));
        const z = zr.slice([0, 0], [1, d]);
        const rr = zr.slice([0, d], [1, d]);
        const n = tf.tanh(
          tf.add(gx.slice([0, 2 * d], [1, d]), tf.mul(rr, gh.slice([0, 2 * d], [1, d]))),
        );
        ht = tf.add(n, tf.mul(z, tf.sub(ht, n)));
      }
      return Float32Array.from(ht.dataSync());
    });
    for (let j = 0; j < d; j++) expect(h[j]).toBeCloseTo(ref[j], 5);
    const s = itemScore(m, h, 0, 6);
    let dot = m.bias[6];
    for (let j = 0; j < d; j++) dot += ref[j] * m.emb[6 * d + j];
    expect(s).toBeCloseTo(dot, 4);
  });

  it('restores a snapshot to identical recommendations and identical further learning', () => {
    const a = trained();
    const b = new SequenceRecommender(TOY);
    b.restore(a.snapshot());
    const more = chainStream(30, 7).map((e) => ({ ...e, ts: e.ts + 86_400_000 * 60 }));
    for (const e of more) {
      a.learn(e);
      b.learn(e);
      expect(b.recommend(e.userId, 5, new Set())).toEqual(a.recommend(e.userId, 5, new Set()));
    }
    expect(b.snapshot()).toEqual(a.snapshot());
  });

  it('hot-swaps: the next list uses the new weights, user states rebuilt from the session', () => {
    const a = trained();
    const other = fitSequenceModel(
      loadTfSync().tf,
      [Int32Array.of(0, 5, 9), Int32Array.of(1, 2)],
      (a.currentModel as SequenceModel).vocab,
      { dim: 16, negatives: 4, seed: 99, version: 'other' },
    ).model;
    const session = chainStream(1, 1).map((e) => ({ ...e, userId: 'swap' }));
    for (const e of session.slice(0, 2)) a.learn(e);
    const old = a.recommend('swap', 5, new Set());
    a.swapModel(other);
    expect(a.modelVersion).toBe('other');
    // a recommender that had the new model before the session started
    const fresh = new SequenceRecommender(TOY);
    fresh.restore(a.snapshot());
    const ref = new SequenceRecommender(TOY);
    for (const e of chainStream(400)) ref.learn(e);
    ref.swapModel(other);
    for (const e of session.slice(0, 2)) ref.learn(e);
    const swapped = a.recommend('swap', 5, new Set());
    expect(swapped).not.toEqual(old);
    expect(swapped.map((x) => x.itemId)).toEqual(
      ref.recommend('swap', 5, new Set()).map((x) => x.itemId),
    );
    expect(fresh.recommend('swap', 5, new Set())).toEqual(swapped);
  });

  it('is opt-in inside the default model and learns the chains there too', () => {
    const plain = createRecommender('default');
    const withSeq = createRecommender('default', {
      default: {
        weights: { sequence: 1 },
        sequence: { ...TOY, trainEvery: 600, minTrainEvents: 600 },
      },
    });
    expect(plain.snapshot().length).toBeLessThan(withSeq.snapshot().length);
    for (const e of chainStream(400)) withSeq.learn(e);
    const copy = createRecommender('default', {
      default: { weights: { sequence: 1 }, sequence: TOY },
    });
    copy.restore(withSeq.snapshot());
    withSeq.learn({
      eventId: 'x',
      ts: Date.UTC(2026, 6, 1),
      userId: 'z',
      itemId: item(3, 0),
      type: 'view',
    });
    copy.learn({
      eventId: 'x',
      ts: Date.UTC(2026, 6, 1),
      userId: 'z',
      itemId: item(3, 0),
      type: 'view',
    });
    const top = withSeq.recommend('z', 3, new Set());
    expect(top[0]?.itemId).toBe(item(3, 1));
    expect(copy.recommend('z', 3, new Set())).toEqual(top);
  });
});

describe('stored sessions (nearline trainer input)', { timeout: 60_000 }, () => {
  const row = (user: string, ts: number, item: string, session = ''): SessionRow => ({
    user,
    ts,
    item,
    session,
  });

  it('cuts sessions where serving cuts them and drops repeats and single-item sessions', () => {
    const m = 60_000;
    const got = buildSessions(
      [
        row('a', 0, 'x'),
        row('a', m, 'x'), // repeat
        row('a', 2 * m, 'y'),
        row('a', 200 * m, 'z'), // gap: a new session of one item, dropped
        row('b', 201 * m, 'p', 's1'),
        row('b', 202 * m, 'q', 's1'),
        row('b', 203 * m, 'r', 's2'), // another session id
        row('b', 204 * m, 's', 's2'),
      ],
      60 * m,
    );
    expect(got).toEqual([
      { items: ['x', 'y'], end: 2 * m },
      { items: ['p', 'q'], end: 202 * m },
      { items: ['r', 's'], end: 204 * m },
    ]);
    const { vocab, encoded } = encodeSessions(got);
    expect(vocab).toEqual(['x', 'y', 'p', 'q', 'r', 's']);
    expect(encoded.map((e) => Array.from(e))).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
  });

  it('scores held-out sessions by the rank of the next item, as a sort would', () => {
    const m = trained().currentModel as SequenceModel;
    const held = Array.from({ length: CHAINS }, (_, c) => ({
      items: [item(c, 0), item(c, 1), item(c, 2), item((c + 3) % CHAINS, 0)],
      end: c,
    }));
    // brute force: sort the whole vocabulary by score at every step
    const h = new Float32Array(m.dim);
    const g = new Float32Array(6 * m.dim);
    let hits = 0;
    let n = 0;
    for (const s of held) {
      h.fill(0);
      for (let t = 0; t + 1 < s.items.length; t++) {
        gruStep(m, h, 0, m.vocab.indexOf(s.items[t]), g);
        const ranked = m.vocab
          .map((id, r) => ({ id, s: itemScore(m, h, 0, r) }))
          .sort((a, b) => b.s - a.s)
          .slice(0, 2)
          .map((x) => x.id);
        n++;
        if (ranked.includes(s.items[t + 1])) hits++;
      }
    }
    expect(sessionHitRate(m, held, 2)).toBeCloseTo(hits / n, 10);
    // the chains are learned; the jump to another chain's start is not predictable
    expect(sessionHitRate(m, held, 1)).toBeGreaterThanOrEqual(0.6);
  });
});
