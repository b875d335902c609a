import { describe, expect, it } from 'vitest';
import type { ChangelogValue } from '../../kafka/changelog-reader.js';
import type { OutMessage } from '../../kafka/transactional-producer.js';
import type { ClickEvent } from '../../models/event.js';
import type { GraphBatch } from '../../operators/types.js';
import { PushChangelog } from '../../pipeline/runtime/push-changelog.js';
import { PushEngine } from '../../push/engine.js';

const MIN = 60_000;
const T0 = Date.parse('2026-11-02T10:00:00Z');
const ev = (userId: string, ts: number): ClickEvent => ({
  eventId: `${userId}-${ts}`,
  ts,
  userId,
  itemId: 'vase',
  type: 'add_to_cart',
});
const batchOf = (events: ClickEvent[]): GraphBatch =>
  ({
    seq: 0,
    commits: [],
    messages: events.length,
    events: events.map((event) => ({ topic: 'in', partition: 0, offset: 0, event })),
    deadLetters: [],
  }) as unknown as GraphBatch;

/** The changelog topic as a compacted log: the last record per key. */
function topicOf(records: readonly OutMessage[]): Map<string, ChangelogValue> {
  const log = new Map<string, ChangelogValue>();
  for (const r of records)
    log.set(r.key as string, { partition: r.partition ?? 0, value: r.value as Buffer | null });
  return log;
}

function changelog(
  engine: PushEngine,
  log: Map<string, ChangelogValue>,
  erased?: (userId: string, ts: number) => boolean,
): PushChangelog {
  return new PushChangelog(engine, {
    topic: 'g-push-state-changelog',
    inputTopic: 'in',
    read: (_partitions, onRecord) => {
      for (const [k, v] of log) onRecord(k, v);
      return Promise.resolve({ records: log.size });
    },
    ...(erased && { erased }),
  });
}

const newEngine = (): PushEngine => new PushEngine({ policy: 'static', holdout: { fraction: 0 } });

describe('PushChangelog', () => {
  it('does not restore a record of a user erased after it, and tombstones it', async () => {
    const engine = newEngine();
    const c = changelog(engine, new Map());
    const out: OutMessage[] = [];
    for (const [user, ts] of [
      ['gone', T0],
      ['back', T0],
      ['kept', T0],
      ['back', T0 + 5 * MIN],
    ] as const) {
      const b = batchOf([ev(user, ts)]);
      engine.process({ events: [ev(user, ts)], items: [], recommendations: [], watermark: ts - 1 });
      out.push(...c.take(b));
    }
    expect(new Set(out.map((m) => m.key))).toEqual(new Set(['gone', 'back', 'kept']));

    // erased at T0 + 2 min: gone's record predates it; back's newest record has an event after it
    const next = newEngine();
    const r = changelog(next, topicOf(out), (u, ts) => u !== 'kept' && ts <= T0 + 2 * MIN);
    r.assigned([0]);
    await r.ready();
    expect(next.snapshotUser('gone')).toBeUndefined();
    expect(next.snapshotUser('back')).toBeDefined();
    expect(next.snapshotUser('kept')).toBeDefined();
    expect(next.userCount).toBe(2);
    // The tombstone goes with the next batch's transaction, before that batch's own changes.
    const t = T0 + 6 * MIN;
    next.process({ events: [ev('kept', t)], items: [], recommendations: [], watermark: t - 1 });
    const written = r.take(batchOf([ev('kept', t)]));
    expect(written.map((m) => [m.key, m.value === null])).toEqual([
      ['gone', true],
      ['kept', false],
    ]);
    expect(r.take(batchOf([]))).toEqual([]);
  });

  it('restores every record when no erasure covers it', async () => {
    const engine = newEngine();
    const c = changelog(engine, new Map());
    engine.process({ events: [ev('a', T0)], items: [], recommendations: [], watermark: T0 - 1 });
    const out = c.take(batchOf([ev('a', T0)]));
    const next = newEngine();
    const r = changelog(next, topicOf(out), () => false);
    r.assigned([0]);
    await r.ready();
    expect(next.snapshotUser('a')).toEqual(engine.snapshotUser('a'));
  });
});
