import { describe, expect, it } from 'vitest';
import type { ClickEvent } from '../../models/event.js';
import { itemScore, type SequenceModel } from '../../models/sequence/gru-model.js';
import { SequenceRecommender, type SequenceOptions } from '../../models/sequence/sequence.js';

/**
 * When in-process fits are applied (fitLag) and how the GRU scores other components'
 * candidates without scanning the vocabulary (candidates 0). The unit tests run the TypeScript
 * sources, so FitRunner fits in-process here; the compiled worker computes the same weights
 * (docs/BENCHMARKS.md, "Sequence model": identical replay results with and without it).
 */

const item = (chain: number, step: number): string => `c${chain}s${step}`;

function chainStream(sessions: number): ClickEvent[] {
  const out: ClickEvent[] = [];
  let n = 0;
  for (let s = 0; s < sessions; s++) {
    const chain = (s * 7) % 10;
    const t0 = Date.UTC(2026, 0, 1) + s * 7_200_000;
    for (let step = 0; step < 3; step++)
      out.push({
        eventId: `e${n++}`,
        ts: t0 + step * 60_000,
        userId: `u${s % 40}`,
        itemId: item(chain, step),
        type: 'add_to_cart',
      });
  }
  return out;
}

const BASE: SequenceOptions = {
  // the GRU's own scores (the prior is models-sequence-prior.test.ts)
  markovWeight: 0,
  dim: 8,
  negatives: 8,
  epochs: 1,
  minFitPositions: 0,
  trainEvery: 300,
  minTrainEvents: 300,
  trainWindow: 1_000,
};

describe('sequence model fits and cheap scoring', { timeout: 60_000 }, () => {
  it('swaps a lagged fit in exactly fitLag events later, with the weights fitted at the trigger', () => {
    const now = new SequenceRecommender(BASE);
    const lagged = new SequenceRecommender({ ...BASE, fitLag: 150 });
    const events = chainStream(200);
    events.forEach((e, n) => {
      now.learn(e);
      lagged.learn(e);
      const seen = n + 1;
      if (seen === 300) expect(now.modelVersion).toBe('replay@300');
      if (seen < 450) expect(lagged.modelVersion).toBe('none');
      if (seen === 450) {
        expect(lagged.modelVersion).toBe('replay@300');
        const a = lagged.currentModel as SequenceModel;
        const b = now.currentModel as SequenceModel;
        expect(a.emb).toEqual(b.emb);
        expect(a.wh).toEqual(b.wh);
      }
    });
    // the next fit (at 600, warm-started from the lagged model) is applied at 750
    expect(lagged.modelVersion).toBe('replay@300');
    expect(lagged.fits).toBe(1);
  });

  it('keeps a pending fit in its snapshot and applies it at the same event after restore', () => {
    // with the prior on: its counts are part of the snapshot too
    const a = new SequenceRecommender({ ...BASE, fitLag: 150, markovWeight: 1 });
    const events = chainStream(200);
    for (const e of events.slice(0, 350)) a.learn(e);
    expect(a.modelVersion).toBe('none');
    const b = new SequenceRecommender({ ...BASE, fitLag: 150, markovWeight: 1 });
    b.restore(a.snapshot());
    for (const [n, e] of events.slice(350).entries()) {
      a.learn(e);
      b.learn(e);
      expect(b.modelVersion).toBe(a.modelVersion);
      if (n === 99) expect(a.modelVersion).toBe('replay@300');
      expect(b.recommend(e.userId, 5, new Set())).toEqual(a.recommend(e.userId, 5, new Set()));
    }
  });

  it('scores given candidates relative to the best of them when it does not scan', () => {
    const scan = new SequenceRecommender(BASE);
    const cheap = new SequenceRecommender({ ...BASE, candidates: 0 });
    for (const e of chainStream(120)) {
      scan.learn(e);
      cheap.learn(e);
    }
    const m = cheap.currentModel as SequenceModel;
    const u = cheap.ctx.users.get('u3');
    const list = Int32Array.of(0, 4, 7, 11);
    expect(cheap.collect(u)).toBe(0);
    const out = new Float64Array(4);
    cheap.addScores(list, 4, out, 2);
    const h = cheap.sessions.h;
    const logit = (c: number): number =>
      itemScore(m, h, u * m.dim, m.vocab.indexOf(cheap.ctx.items.name(c)));
    const best = Math.max(...Array.from(list, logit));
    list.forEach((c, s) => expect(out[s]).toBeCloseTo(2 * Math.exp(logit(c) - best), 6));
    expect(Math.max(...out)).toBeCloseTo(2, 6);
    // with a scan, the scores are relative to the best of the whole vocabulary, as before
    expect(scan.collect(u)).toBeGreaterThan(0);
    const viaScan = new Float64Array(4);
    scan.addScores(list, 4, viaScan, 1);
    list.forEach((c, s) => expect(viaScan[s]).toBeCloseTo(scan.score(c), 12));
  });

  it('adds the prior to the GRU logits: exp(gru + prior − best)', () => {
    // three twins on the same events: GRU alone, prior alone (never fitted), both
    const gru = new SequenceRecommender({ ...BASE, candidates: 0 });
    const prior = new SequenceRecommender({
      ...BASE,
      candidates: 0,
      markovWeight: 2,
      trainEvery: 0,
    });
    const both = new SequenceRecommender({ ...BASE, candidates: 0, markovWeight: 2 });
    const events = chainStream(120);
    for (const e of events) for (const r of [gru, prior, both]) r.learn(e);
    const user = events[events.length - 1].userId;
    const all = Int32Array.from({ length: both.ctx.items.size }, (_, c) => c);
    const scores = (r: SequenceRecommender): Float64Array => {
      const out = new Float64Array(all.length);
      r.collect(r.ctx.users.get(user));
      r.addScores(all, all.length, out, 1);
      return out;
    };
    const [g, p, b] = [scores(gru), scores(prior), scores(both)];
    // b = exp(gru + prior − best) = g · p · const for every item the prior knows, and g · const'
    // for the others (p is the prior relative to its own best, so the constants differ)
    const logRatios = all.filter((c) => p[c] > 0).map((c) => Math.log(b[c] / (g[c] * p[c])));
    expect(logRatios.length).toBeGreaterThan(0);
    for (const x of logRatios) expect(x).toBeCloseTo(logRatios[0], 5);
    const rest = all.filter((c) => p[c] === 0 && g[c] > 0).map((c) => Math.log(b[c] / g[c]));
    expect(rest.length).toBeGreaterThan(0);
    for (const x of rest) expect(x).toBeCloseTo(rest[0], 5);
    // and the prior moved the order: the best item of `both` is the prior's best
    const argmax = (a: Float64Array): number => a.indexOf(Math.max(...a));
    expect(argmax(b)).toBe(argmax(p));
  });

  it('with rerankDepth scores only the best few slots by the blend so far', () => {
    const rec = new SequenceRecommender({ ...BASE, candidates: 0, rerankDepth: 2 });
    for (const e of chainStream(120)) rec.learn(e);
    const m = rec.currentModel as SequenceModel;
    const u = rec.ctx.users.get('u3');
    const list = Int32Array.of(0, 4, 7, 11);
    rec.collect(u);
    const out = Float64Array.of(0.1, 0.9, 0.2, 0.5);
    rec.addScores(list, 4, out, 1);
    const h = rec.sessions.h;
    const logit = (c: number): number =>
      itemScore(m, h, u * m.dim, m.vocab.indexOf(rec.ctx.items.name(c)));
    const best = Math.max(logit(4), logit(11));
    expect(out[0]).toBe(0.1);
    expect(out[2]).toBe(0.2);
    expect(out[1]).toBeCloseTo(0.9 + Math.exp(logit(4) - best), 6);
    expect(out[3]).toBeCloseTo(0.5 + Math.exp(logit(11) - best), 6);
  });

  it('learns the chains with hard negatives drawn from observed successors too', () => {
    // as the toy test of models-sequence.test.ts: one GRU run per session, the chains
    const toy = { ...BASE, acrossSessions: false, dim: 16, negatives: 16, learningRate: 0.03 };
    const hard = new SequenceRecommender({ ...toy, epochs: 8, hardNegatives: 8 });
    const plain = new SequenceRecommender({ ...toy, epochs: 8 });
    for (const e of chainStream(200)) {
      hard.learn(e);
      plain.learn(e);
    }
    expect((hard.currentModel as SequenceModel).emb).not.toEqual(
      (plain.currentModel as SequenceModel).emb,
    );
    // a new user one step into each chain gets the chain's next step first
    let hits = 0;
    for (let c = 0; c < 10; c++) {
      hard.learn({
        eventId: `q${c}`,
        ts: Date.UTC(2026, 5, 1) + c * 7_200_000,
        userId: `new${c}`,
        itemId: item(c, 0),
        type: 'view',
      });
      if (hard.recommend(`new${c}`, 1, new Set())[0]?.itemId === item(c, 1)) hits++;
    }
    expect(hits).toBeGreaterThanOrEqual(8);
  });
});
