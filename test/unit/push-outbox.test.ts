import { describe, expect, it } from 'vitest';
import type { PushDecision } from '../../push/types.js';
import type { GraphBatch } from '../../operators/types.js';
import { PushOutbox } from '../../pipeline/runtime/push-outbox.js';
import type { OutboxEntry, PushClaims } from '../../sinks/redis-push-policy.js';
import { pushDecision, pushMessage } from '../support/push-fixtures.js';

const decision = pushDecision;
const message = pushMessage;
const entry = (partition: number, user: string, key: string): OutboxEntry => {
  const d = decision(user, key);
  return { partition, at: 1_000, decision: d, message: message(d) };
};
const batch = (
  events: { user: string; partition: number }[],
  pushes: PushDecision[] = [],
): GraphBatch =>
  ({
    seq: 0,
    commits: [],
    messages: events.length,
    events: events.map((e) => ({
      topic: 'in',
      partition: e.partition,
      offset: 0,
      event: { userId: e.user },
    })),
    pushes,
    pushMessages: pushes.filter((p) => p.decision === 'sent').map(message),
  }) as unknown as GraphBatch;

function fakeClaims(entries: OutboxEntry[]): PushClaims & { settled: string[] } {
  const settled: string[] = [];
  return {
    settled,
    claim: (decisions, messages) =>
      Promise.resolve({ decisions: [...decisions], messages: [...messages] }),
    outbox: (p) => Promise.resolve(entries.filter((e) => e.partition === p)),
    settle: (keys) => {
      for (const k of keys) settled.push(`${k.partition}/${k.key}`);
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}

describe('PushOutbox', () => {
  it('settles committed entries and re-sends the others once, before the batch’s own pushes', async () => {
    const claims = fakeClaims([entry(0, 'a', 'ka'), entry(0, 'b', 'kb'), entry(1, 'c', 'kc')]);
    let since = 0;
    const outbox = new PushOutbox(claims, {
      inputTopic: 'in',
      maxUsers: 10,
      committedKeysSince: (s) => {
        since = s;
        return Promise.resolve(new Set(['kb']));
      },
    });
    outbox.assigned([0]);
    await outbox.ready();
    expect(since).toBe(1_000 - 60_000);
    expect(claims.settled).toEqual(['0/kb']);
    // The replay decides `ka` again in the first batch, and a new push `kd`.
    const first = outbox.withRecovered(
      batch([{ user: 'a', partition: 0 }], [decision('a', 'ka'), decision('d', 'kd')]),
    );
    expect(first.pushes?.map((p) => p.idempotencyKey)).toEqual(['ka', 'kd']);
    expect(first.pushMessages?.map((m) => m.idempotencyKey)).toEqual(['ka', 'kd']);
    // ...and later: its copy is dropped, other decisions pass.
    const later = outbox.withRecovered(batch([], [decision('a', 'ka'), decision('e', 'ke')]));
    expect(later.pushes?.map((p) => p.idempotencyKey)).toEqual(['ke']);
    expect(later.pushMessages?.map((m) => m.idempotencyKey)).toEqual(['ke']);
  });

  it('knows the users’ partitions from their events, within its bound', () => {
    const outbox = new PushOutbox(fakeClaims([]), {
      inputTopic: 'in',
      maxUsers: 2,
      committedKeysSince: () => Promise.resolve(new Set()),
    });
    outbox.observe(
      batch([
        { user: 'a', partition: 0 },
        { user: 'b', partition: 1 },
      ]),
    );
    outbox.observe(
      batch([
        { user: 'a', partition: 0 },
        { user: 'c', partition: 2 },
      ]),
    );
    expect(outbox.partitionOf('a')).toBe(0);
    expect(outbox.partitionOf('b')).toBeUndefined();
    expect(outbox.partitionOf('c')).toBe(2);
    expect(outbox.keysOf([message(decision('c', 'kc')), message(decision('z', 'kz'))])).toEqual([
      { partition: 2, key: 'kc' },
    ]);
  });
});
