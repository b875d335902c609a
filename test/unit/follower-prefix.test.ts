import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ClickEvent } from '../../models/event.js';
import { PurchaseHistory } from '../../models/purchase-history.js';
import { dropErased } from '../../operators/drop-erased.js';
import { userIdHasher } from '../../operators/hash-user-ids.js';
import { learnAndRecommend } from '../../operators/learn-and-recommend.js';
import type { Batch, RawMessage } from '../../operators/types.js';
import { recpipeIngest } from '../../pipeline/graph.js';
import { FollowerPrefix } from '../../pipeline/runtime/follower-prefix.js';
import {
  FOLLOWER_STAGES,
  INGEST_OPERATORS,
  RUN_STAGES,
  describeTopology,
} from '../../pipeline/topology.js';
import { ErasedUsers } from '../../privacy/erased-users.js';

/**
 * The follower runs a prefix of run's topology (issue 17): run's source and ingest stages with
 * run's operators, then the learning of its graph stage; fed the same messages, it learns
 * exactly what run's graph learns, in the same order.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEY = 'follower-test-key';
const T0 = 1_700_000_000_000;

const event = (id: string, user: string, item: string, ts: number): string =>
  JSON.stringify({ event_id: id, ts, user_id: user, item_id: item, type: 'view' });

/** Two partitions: repeats (within and across batches), malformed lines, an erased user. */
function messages(): RawMessage[][] {
  const lines: [number, string][] = [
    [0, event('e1', 'alice', 'i1', T0)],
    [1, event('e2', 'bob', 'i2', T0 + 1)],
    [0, '{not json'],
    [0, event('e1', 'alice', 'i1', T0)],
    [1, event('e3', 'erased', 'i3', T0 + 2)],
    [1, event('e4', 'bob', 'i1', T0 + 3)],
    [0, event('e5', 'alice', 'i2', T0 + 4)],
    [1, JSON.stringify({ event_id: 'e6', user_id: 'bob' })],
    [0, event('e2', 'bob', 'i2', T0 + 1)],
    [1, event('e7', 'erased', 'i4', T0 + 10_000)],
  ];
  const offsets = [0, 0];
  const all = lines.map(([partition, value]) => ({
    topic: 'clickstream',
    partition,
    offset: offsets[partition]!++,
    value,
  }));
  return [all.slice(0, 4), all.slice(4)];
}

const newErased = (): ErasedUsers => {
  const erased = new ErasedUsers();
  erased.add(userIdHasher(KEY)('erased'), T0 + 5);
  return erased;
};

describe('the follower prefix', () => {
  it("is run's first stages with run's ingest operators, then learning", () => {
    const follower = describeTopology('follower');
    const run = describeTopology('run');
    const shared = FOLLOWER_STAGES.length - 1;
    expect(FOLLOWER_STAGES.slice(0, shared)).toEqual(RUN_STAGES.slice(0, shared));
    expect(follower[1]?.operators).toEqual(INGEST_OPERATORS);
    expect(follower[1]?.operators).toEqual(run[1]?.operators);
    expect(FOLLOWER_STAGES.at(-1)).toBe('learn');
  });

  it('pipes the operators it declares, in that order', () => {
    const src = readFileSync(join(ROOT, 'pipeline/runtime/follower-prefix.ts'), 'utf8');
    const calls = ['parseMessages(', 'hashUserIds(', 'dedupeEvents(', 'dropErased('];
    const at = calls.map((c) => src.indexOf(c, src.indexOf('constructor(')));
    expect(at.every((p) => p > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it("learns what run's graph learns from the same messages, in the same order", async () => {
    const opts = { dedupeCapacity: 100, userIdHashKey: KEY, maxFutureSkewMs: 60_000 };
    const byGraph: ClickEvent[] = [];
    const batches: Batch<RawMessage>[] = messages().map((items, seq) => ({
      seq,
      items,
      commits: [],
    }));
    await lastValueFrom(
      from(batches).pipe(
        recpipeIngest(opts),
        dropErased(newErased()),
        learnAndRecommend({
          recommender: { name: 'probe', learn: (e) => byGraph.push(e), recommend: () => [] },
          history: new PurchaseHistory(),
          topK: 10,
          modelVersion: 'probe@1',
        }),
        toArray(),
      ),
    );

    const byFollower: ClickEvent[] = [];
    const prefix = new FollowerPrefix({
      ...opts,
      erased: newErased(),
      learn: (e) => byFollower.push(e),
    });
    let fresh = 0;
    for (const batch of messages()) fresh += prefix.learn(prefix.parse(batch).events);

    expect(byFollower).toEqual(byGraph);
    expect(byGraph.map((e) => e.eventId)).toEqual(['e1', 'e2', 'e4', 'e5', 'e7']);
    expect(byGraph.every((e) => /^[0-9a-f]{64}$/.test(e.userId))).toBe(true);
    // repeats are not counted; the erased user's old event is (it was new, just not learned)
    expect(fresh).toBe(6);
  });
});
