import { describe, expect, it } from 'vitest';
import type { ClickEvent } from '../../models/event.js';
import { Rng } from '../../models/core/rng.js';
import { SequenceRecommender } from '../../models/sequence/sequence.js';
import { Transitions } from '../../models/sequence/transitions.js';

/**
 * The sequence model's Markov prior (transitions.ts, sequence.ts): counted online from every
 * event, so it serves before the GRU's first fit. Checked against a brute-force recount of the
 * stream's sessions, and the Space-Saving bound of each row against exact counts.
 */

const GAP = 60 * 60_000;

/** Random sessions of a few users over a small catalogue, no item twice in a row per user. */
function randomStream(seed: number, n: number): ClickEvent[] {
  const rng = new Rng(seed);
  const out: ClickEvent[] = [];
  const last = new Map<string, string>();
  const sess = new Map<string, number>();
  let ts = Date.UTC(2026, 0, 1);
  for (let e = 0; e < n; e++) {
    const user = `u${Math.floor(rng.next() * 6)}`;
    let itemId = `i${Math.floor(rng.next() * 12)}`;
    if (last.get(user) === itemId) itemId = `${itemId}x`;
    last.set(user, itemId);
    // a new session id now and then, and now and then a gap longer than the session gap
    if (rng.next() < 0.1 || !sess.has(user)) sess.set(user, e);
    ts += rng.next() < 0.05 ? 2 * GAP : 30_000;
    out.push({
      eventId: `e${e}`,
      ts,
      userId: user,
      itemId,
      type: rng.next() < 0.5 ? 'view' : 'add_to_cart',
      sessionId: `s${sess.get(user)}`,
    });
  }
  return out;
}

/** The prior by definition: per user the current session, pairs within `span` counted 1/d. */
function bruteForcePrior(
  events: ClickEvent[],
  span: number,
  eps: number,
): Map<string, Map<string, number>> {
  const counts = new Map<string, Map<string, number>>();
  const session = new Map<string, { id: string; ts: number; items: string[] }>();
  for (const e of events) {
    const prev = session.get(e.userId);
    const fresh = !prev || prev.id !== e.sessionId || e.ts - prev.ts > GAP;
    const items = fresh ? [] : (prev as { items: string[] }).items;
    for (let d = 1; d <= Math.min(span, items.length); d++) {
      const x = items[items.length - d] as string;
      if (x === e.itemId) continue;
      const row = counts.get(x) ?? new Map<string, number>();
      row.set(e.itemId, (row.get(e.itemId) ?? 0) + 1 / d);
      counts.set(x, row);
    }
    items.push(e.itemId);
    session.set(e.userId, { id: e.sessionId as string, ts: e.ts, items });
  }
  const out = new Map<string, Map<string, number>>();
  for (const [user, s] of session) {
    const bonus = new Map<string, number>();
    const recent = s.items.slice(-span).reverse();
    recent.forEach((x, back) => {
      const row = counts.get(x);
      if (!row) return;
      let total = 0;
      for (const v of row.values()) total += v;
      for (const [c, v] of row)
        bonus.set(c, (bonus.get(c) ?? 0) + Math.log1p(v / (total * eps)) / (back + 1));
    });
    out.set(user, bonus);
  }
  return out;
}

describe('sequence model: Markov prior', () => {
  it('scores every item as a recount of the sessions does, before any fit', () => {
    for (const [span, eps] of [
      [1, 0.05],
      [3, 0.05],
      [4, 2],
    ] as const) {
      const events = randomStream(11 + span, 600);
      // wide rows keep every pair, so the counts are exact
      const rec = new SequenceRecommender({
        markovSpan: span,
        markovEps: eps,
        markovWeight: 1.5,
        markovWidth: 64,
        candidates: 0,
      });
      for (const e of events) rec.learn(e);
      expect(rec.currentModel).toBeUndefined();
      const expected = bruteForcePrior(events, span, eps);
      const all = Int32Array.from({ length: rec.ctx.items.size }, (_, c) => c);
      for (const [user, bonus] of expected) {
        const u = rec.ctx.users.get(user);
        rec.collect(u);
        const out = new Float64Array(all.length);
        rec.addScores(all, all.length, out, 1);
        const best = Math.max(...bonus.values());
        for (const c of all) {
          const b = bonus.get(rec.ctx.items.name(c));
          expect(out[c]).toBeCloseTo(b === undefined ? 0 : Math.exp(1.5 * (b - best)), 6);
        }
        // standalone, its list is the prior's order (ties in any order)
        const top = rec.recommend(user, 3, new Set()).map((x) => bonus.get(x.itemId) ?? 0);
        const byBonus = [...bonus.values()].sort((a, b) => b - a).slice(0, 3);
        byBonus.forEach((b, k) => expect(top[k]).toBeCloseTo(b, 9));
      }
    }
  });

  it('keeps the order: A → B predicts B after A, not A after B', () => {
    const rec = new SequenceRecommender({ markovSpan: 1 });
    const t0 = Date.UTC(2026, 0, 1);
    for (let s = 0; s < 20; s++)
      ['A', 'B', 'C'].forEach((itemId, k) =>
        rec.learn({
          eventId: `e${s}-${k}`,
          ts: t0 + s * 3 * GAP + k * 60_000,
          userId: `u${s}`,
          itemId,
          type: 'add_to_cart',
          sessionId: `s${s}`,
        }),
      );
    const next = (items: string[]): string | undefined => {
      items.forEach((itemId, k) =>
        rec.learn({
          eventId: `q${items.join()}${k}`,
          ts: t0 + 100 * GAP + k,
          userId: `q${items.join()}`,
          itemId,
          type: 'view',
          sessionId: 'q',
        }),
      );
      return rec.recommend(`q${items.join()}`, 1, new Set())[0]?.itemId;
    };
    expect(next(['A'])).toBe('B');
    expect(next(['B'])).toBe('C');
    // nothing ever followed C: popularity, not the predecessor B
    expect(next(['C'])).not.toBe('B');
  });

  it('keeps the heavy successors of a full row (Space-Saving) and never undercounts them', () => {
    const rng = new Rng(5);
    const t = new Transitions(8);
    const exact = new Map<number, number>();
    let total = 0;
    for (let n = 0; n < 5_000; n++) {
      // three heavy successors among a long tail of rare ones
      const b =
        rng.next() < 0.6 ? 1 + Math.floor(rng.next() * 3) : 10 + Math.floor(rng.next() * 500);
      const w = 1 / (1 + Math.floor(rng.next() * 3));
      t.add(0, b, w);
      exact.set(b, (exact.get(b) ?? 0) + w);
      total += w;
    }
    expect(t.len[0]).toBe(8);
    expect(t.total[0]).toBeCloseTo(total, 0);
    for (const b of [1, 2, 3]) {
      expect(t.count(0, b)).toBeGreaterThanOrEqual((exact.get(b) as number) * (1 - 1e-6));
      // overestimated by at most the lightest kept count, which is at most total / width
      expect(t.count(0, b) - (exact.get(b) as number)).toBeLessThanOrEqual(total / 8 + 1e-3);
    }
  });
});
