import { describe, expect, it } from 'vitest';
import type { ClickEvent, EventType, ScoredItem } from '../../models/event.js';
import { PrequentialEvaluator } from '../../models/prequential.js';
import type { Recommender } from '../../models/recommender.js';

/** Always recommends the first k items of a fixed order that are not excluded; logs every call. */
class ScriptedRecommender implements Recommender {
  readonly name = 'scripted';
  readonly log: string[] = [];
  readonly excludes: string[][] = [];

  constructor(private readonly order: string[]) {}

  learn(e: ClickEvent): void {
    this.log.push(`learn ${e.eventId}`);
  }

  recommend(userId: string, k: number, exclude: ReadonlySet<string>): ScoredItem[] {
    this.log.push(`recommend ${userId}`);
    this.excludes.push([...exclude].sort());
    return this.order
      .filter((i) => !exclude.has(i))
      .slice(0, k)
      .map((itemId, r) => ({ itemId, score: -r, reason: 'scripted' }));
  }
}

let n = 0;
function ev(userId: string, type: EventType, itemId: string): ClickEvent {
  n++;
  return { eventId: `e${n}`, ts: 1_000 * n, userId, itemId, type };
}

describe('PrequentialEvaluator (CONTRACT §3)', () => {
  it('tests then trains, with the exclusions and eligibility rules, on a hand-built stream', () => {
    n = 0;
    const rec = new ScriptedRecommender(['a', 'b', 'c', 'd', 'e']);
    const ev3 = new PrequentialEvaluator(3, { window: 2 });
    const stream = [
      ev('u1', 'view', 'a'), //         e1: a view is never a test case
      ev('u1', 'purchase', 'b'), //     e2: test; list [a b c]; b at rank 1
      ev('u1', 'purchase', 'b'), //     e3: u1 bought b before: not a test case
      ev('u2', 'purchase', 'a'), //     e4: u2's first event: not a test case
      ev('u2', 'add_to_cart', 'c'), //  e5: test; u2 bought {a}: list [b c d]; c at rank 1
      ev('u2', 'purchase', 'c'), //     e6: u2 carted c before: not a test case
      ev('u1', 'purchase', 'd'), //     e7: test; u1 bought {b}: list [a c d]; d at rank 2
      ev('u1', 'click', 'e'), //        e8: a click is never a test case
      ev('u1', 'purchase', 'f'), //     e9: test; u1 bought {b d}: list [a c e]; miss
      ev('u3', 'remove_from_cart', 'a'), // e10: not a test case, still learned
    ];
    for (const e of stream) ev3.step(e, rec);

    const s = ev3.summary();
    expect(s.evaluated).toBe(4);
    expect(s.hits).toBe(3);
    expect(s.hr).toBeCloseTo(3 / 4, 12);
    // ranks 1, 1, 2 (0-based) and a miss
    expect(s.ndcg).toBeCloseTo(
      (1 / Math.log2(3) + 1 / Math.log2(3) + 1 / Math.log2(4) + 0) / 4,
      12,
    );

    // every event is learned from, in order, and each test happens before its own learn
    expect(rec.log).toEqual([
      'learn e1',
      'recommend u1',
      'learn e2',
      'learn e3',
      'learn e4',
      'recommend u2',
      'learn e5',
      'learn e6',
      'recommend u1',
      'learn e7',
      'learn e8',
      'recommend u1',
      'learn e9',
      'learn e10',
    ]);
    // exclusions are what the user bought before (not carted, not viewed)
    expect(rec.excludes).toEqual([[], ['a'], ['b'], ['b', 'd']]);

    // learning curve: one point per 2 evaluated events
    const pts = ev3.series();
    expect(pts.map((p) => p.evaluated)).toEqual([2, 4]);
    expect(pts[0].hr).toBe(1);
    expect(pts[1].hr).toBe(0.5);
    expect(pts[1].hrCumulative).toBe(0.75);
    expect(pts[1].ts).toBe(9_000);
  });

  it('counts a hit only within the top k, even if the recommender returns more', () => {
    n = 0;
    const greedy: Recommender = {
      name: 'greedy',
      learn: () => undefined,
      recommend: () => ['x', 'y', 'z'].map((itemId) => ({ itemId, score: 0, reason: '' })),
    };
    const e = new PrequentialEvaluator(2);
    e.step(ev('u', 'purchase', 'x'), greedy);
    e.step(ev('u', 'purchase', 'z'), greedy);
    expect(e.summary()).toMatchObject({ evaluated: 1, hits: 0, hr: 0, ndcg: 0 });
  });

  it('rejects a k that is not a positive integer', () => {
    expect(() => new PrequentialEvaluator(0)).toThrow(/k must be/);
    expect(() => new PrequentialEvaluator(2.5)).toThrow(/k must be/);
  });
});
