import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GraphBatch } from '../../operators/types.js';
import type { PushDecision, PushDecisionKind, PushMessage } from '../../push/types.js';
import { backToBatches } from '../../pipeline/runtime/run-stages.js';
import { pushDecision, pushMessage } from '../support/push-fixtures.js';

const decision = pushDecision;
const message = pushMessage;

/**
 * A claim store with PushClaims.claim's contract and state that carries over between calls, as
 * Redis does: one push per user (a cooldown), and keys committed before answer `already_sent`.
 */
function claimStore(committed: ReadonlySet<string>) {
  const claimedUsers = new Set<string>();
  return (decisions: readonly PushDecision[], messages: readonly PushMessage[]) => {
    const lost = new Set<string>();
    const done = new Set<string>();
    for (const d of decisions) {
      if (d.decision !== 'sent') continue;
      if (committed.has(d.idempotencyKey)) {
        lost.add(d.idempotencyKey);
        done.add(d.idempotencyKey);
      } else if (claimedUsers.has(d.userId)) lost.add(d.idempotencyKey);
      else claimedUsers.add(d.userId);
    }
    const kept: PushDecision[] = [];
    for (const d of decisions) {
      if (d.decision !== 'sent' || !lost.has(d.idempotencyKey)) kept.push(d);
      else if (!done.has(d.idempotencyKey)) {
        const { payload: _payload, ...rest } = d;
        kept.push({ ...rest, decision: 'suppressed', reason: 'cooldown: test' });
      }
    }
    return { decisions: kept, messages: messages.filter((m) => !lost.has(m.idempotencyKey)) };
  };
}

const batchOf = (seq: number, pushes: PushDecision[]): GraphBatch =>
  ({
    seq,
    messages: pushes.length,
    events: [],
    deadLetters: [],
    commits: [],
    features: [],
    pushes,
    pushMessages: pushes.filter((p) => p.decision === 'sent').map(message),
  }) as unknown as GraphBatch;

describe('backToBatches: one claim for a serve call', () => {
  it('gives every batch what a claim per batch, in order, would have given it', () => {
    const push = fc.record({
      user: fc.integer({ min: 0, max: 5 }),
      kind: fc.constantFrom<PushDecisionKind>('sent', 'sent', 'deferred', 'suppressed'),
      committed: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(fc.array(push, { maxLength: 6 }), { maxLength: 6 }), (spec) => {
        let n = 0;
        const committed = new Set<string>();
        const batches = spec.map((pushes, seq) =>
          batchOf(
            seq,
            pushes.map((p) => {
              const key = `k${n++}`;
              if (p.committed) committed.add(key);
              return decision(`u${p.user}`, key, p.kind);
            }),
          ),
        );
        const perBatch = claimStore(committed);
        const expected = batches.map((b) => {
          const r = perBatch(b.pushes ?? [], b.pushMessages ?? []);
          return { pushes: r.decisions, pushMessages: r.messages };
        });
        const once = claimStore(committed);
        const final = once(
          batches.flatMap((b) => b.pushes ?? []),
          batches.flatMap((b) => b.pushMessages ?? []),
        );
        const got = backToBatches(batches, final).map((b) => ({
          pushes: b.pushes ?? [],
          pushMessages: b.pushMessages ?? [],
        }));
        expect(got).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('returns a batch without sent pushes as it was', () => {
    const b = batchOf(0, [decision('u', 'k', 'deferred')]);
    const [out] = backToBatches([b], { decisions: b.pushes ?? [], messages: [] });
    expect(out).toBe(b);
  });
});
