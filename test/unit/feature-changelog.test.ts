import { describe, expect, it } from 'vitest';
import {
  writeWindowsTo,
  type KeyWindowsState,
  type PaneSink,
} from '../../features/window-changelog-codec.js';
import type { GraphBatch } from '../../operators/types.js';
import type { ChangelogValue } from '../../kafka/changelog-reader.js';
import type { OutMessage } from '../../kafka/transactional-producer.js';
import {
  FeatureChangelog,
  featureHorizonMs,
  type UserWindowsAccess,
} from '../../pipeline/runtime/feature-changelog.js';

const MIN = 60_000;
const HORIZON = 10 * MIN;

/** A store of one window family whose panes are the users' event times (one pane each). */
class FakeStore implements UserWindowsAccess {
  watermark = 0;
  readonly config = {
    userWindows: [{ sizeMs: HORIZON }],
    outOfOrdernessMs: 0,
    allowedLatenessMs: 0,
  };
  readonly users = new Map<string, ReadonlyMap<string, KeyWindowsState>>();

  add(user: string, ts: number): void {
    const panes = [...(this.users.get(user)?.get('5m')?.panes ?? [])];
    panes.unshift({
      start: ts,
      counts: [1],
      units: 0,
      revenue: 0,
      firstTs: ts,
      lastTs: ts,
      hashes: [7],
    });
    this.users.set(user, new Map([['5m', { firedTo: -Infinity, panes }]]));
  }

  exportWindows(_e: 'user', id: string): ReadonlyMap<string, KeyWindowsState> | undefined {
    return this.users.get(id);
  }

  writeWindows(_e: 'user', id: string, w: PaneSink): void {
    const windows = this.users.get(id);
    if (windows) writeWindowsTo(windows, w);
  }

  restoreWindows(_e: 'user', id: string, _ts: number, w: ReadonlyMap<string, KeyWindowsState>) {
    if (w.size === 0) this.users.delete(id);
    else this.users.set(id, w);
  }
}

const batch = (events: { user: string; partition: number; ts: number }[]): GraphBatch =>
  ({
    seq: 0,
    commits: [],
    messages: events.length,
    events: events.map((e) => ({
      topic: 'in',
      partition: e.partition,
      offset: 0,
      event: { userId: e.user, ts: e.ts },
    })),
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
  store: FakeStore,
  log: Map<string, ChangelogValue>,
  maxUsers = 100,
  erased?: (userId: string, ts: number) => boolean,
) {
  return new FeatureChangelog(store, {
    ...(erased && { erased }),
    topic: 'g-feature-state-changelog',
    inputTopic: 'in',
    horizonMs: HORIZON,
    maxUsers,
    read: async (partitions, onRecord) => {
      let records = 0;
      for (const [k, v] of log)
        if (partitions.includes(v.partition)) {
          records++;
          onRecord(k, v);
        }
      return { records };
    },
  });
}

describe('FeatureChangelog', () => {
  it('writes only the users a batch touched, in their input partition', () => {
    const store = new FakeStore();
    const c = changelog(store, new Map());
    store.add('a', 1 * MIN);
    store.add('b', 1 * MIN);
    expect(
      c
        .take(
          batch([
            { user: 'a', partition: 0, ts: MIN },
            { user: 'b', partition: 1, ts: MIN },
          ]),
        )
        .map((m) => [m.key, m.partition]),
    ).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
    store.add('a', 2 * MIN);
    const second = c.take(batch([{ user: 'a', partition: 0, ts: 2 * MIN }]));
    expect(second.map((m) => m.key)).toEqual(['a']);
  });

  it('restores a partition’s users as their windows were committed, and drops revoked ones', async () => {
    const store = new FakeStore();
    const out: OutMessage[] = [];
    const c = changelog(store, new Map());
    for (let i = 0; i < 20; i++) {
      const user = `u${i % 7}`;
      store.add(user, i * 1_000);
      out.push(...c.take(batch([{ user, partition: i % 7 < 4 ? 0 : 1, ts: i * 1_000 }])));
    }
    const next = new FakeStore();
    const other = changelog(next, topicOf(out));
    other.assigned([1]);
    await other.ready();
    expect([...next.users.keys()].sort()).toEqual(['u4', 'u5', 'u6']);
    for (const u of ['u4', 'u5', 'u6']) expect(next.users.get(u)).toEqual(store.users.get(u));
    c.revoked([1]);
    expect([...store.users.keys()].sort()).toEqual(['u0', 'u1', 'u2', 'u3']);
  });

  it('tombstones users whose windows are past the horizon, and over the cap', async () => {
    const store = new FakeStore();
    const c = changelog(store, new Map(), 2);
    const out: OutMessage[] = [];
    for (const [user, ts] of [
      ['a', 0],
      ['b', MIN],
      ['c', 2 * MIN],
    ] as const) {
      store.add(user, ts);
      out.push(...c.take(batch([{ user, partition: 0, ts }])));
    }
    // The cap (2) tombstoned the least recent, a.
    expect(out.filter((m) => m.value === null).map((m) => m.key)).toEqual(['a']);
    // b's newest event is past the horizon, c's (one minute later) is not yet.
    store.watermark = 2 * MIN + HORIZON - 1;
    store.add('d', store.watermark);
    const later = c.take(batch([{ user: 'd', partition: 0, ts: store.watermark }]));
    expect(later.filter((m) => m.value === null).map((m) => m.key)).toEqual(['b']);
    const log = topicOf([...out, ...later]);
    const next = new FakeStore();
    const restored = changelog(next, log);
    restored.assigned([0]);
    await restored.ready();
    expect([...next.users.keys()].sort()).toEqual(['c', 'd']);
  });

  it('an erased user leaves the tracking map and is tombstoned in the next batch', async () => {
    const store = new FakeStore();
    const c = changelog(store, new Map(), 1);
    store.add('gone', MIN);
    const out = c.take(batch([{ user: 'gone', partition: 2, ts: MIN }]));
    store.users.delete('gone'); // the store's own erasure
    c.forget('gone');
    c.forget('never-seen'); // nothing of theirs was written here: no tombstone
    store.add('b', 2 * MIN);
    const next = c.take(batch([{ user: 'b', partition: 0, ts: 2 * MIN }]));
    expect(next.map((m) => [m.key, m.partition, m.value === null])).toEqual([
      ['gone', 2, true],
      ['b', 0, false],
    ]);
    // nothing of theirs is left to expire later: past the horizon only b is tombstoned
    store.watermark = 3 * MIN + HORIZON;
    expect(c.take(batch([])).map((m) => [m.key, m.value])).toEqual([['b', null]]);
    const restored = new FakeStore();
    const r = changelog(restored, topicOf([...out, ...next]));
    r.assigned([0, 1, 2]);
    await r.ready();
    expect([...restored.users.keys()]).toEqual(['b']);
  });

  it('does not restore a record of an erased user (one committed by a batch in flight)', async () => {
    const store = new FakeStore();
    const c = changelog(store, new Map());
    const out: OutMessage[] = [];
    for (const [user, ts] of [
      ['gone', MIN],
      ['back', MIN],
      ['kept', MIN],
      ['back', 5 * MIN],
    ] as const) {
      store.add(user, ts);
      out.push(...c.take(batch([{ user, partition: 0, ts }])));
    }
    // erased at 2 min: gone's record predates it; back's newest record has an event after it
    const next = new FakeStore();
    const r = changelog(next, topicOf(out), 100, (u, ts) => u !== 'kept' && ts <= 2 * MIN);
    r.assigned([0]);
    await r.ready();
    expect([...next.users.keys()].sort()).toEqual(['back', 'kept']);
    next.add('kept', 6 * MIN);
    const written = r.take(batch([{ user: 'kept', partition: 0, ts: 6 * MIN }]));
    expect(written.map((m) => [m.key, m.value === null])).toEqual([
      ['gone', true],
      ['kept', false],
    ]);
  });

  it('horizon: the longest user window plus out-of-orderness and lateness', () => {
    expect(
      featureHorizonMs({
        userWindows: [{ sizeMs: 5 * MIN }, { sizeMs: 60 * MIN }],
        outOfOrdernessMs: 1_000,
        allowedLatenessMs: 2_000,
      }),
    ).toBe(60 * MIN + 3_000);
  });
});
