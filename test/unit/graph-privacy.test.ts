import { lastValueFrom, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ClickEvent } from '../../models/event.js';
import { FeatureStore } from '../../features/feature-store.js';
import { PurchaseHistory } from '../../models/purchase-history.js';
import type { Recommender } from '../../models/recommender.js';
import { userIdHasher } from '../../operators/hash-user-ids.js';
import { recpipeGraph } from '../../pipeline/graph.js';

describe('recpipeGraph with privacy.userIdHashKey', () => {
  it('learns, serves and records purchases under the pseudonym only', async () => {
    const learned: string[] = [];
    const rec: Recommender = {
      name: 'spy',
      learn: (e: ClickEvent) => void learned.push(e.userId),
      recommend: () => [],
    };
    const history = new PurchaseHistory();
    const value = JSON.stringify({
      event_id: 'e',
      ts: 1,
      user_id: 'alice@example.com',
      item_id: 'i',
      type: 'purchase',
    });
    const out = await lastValueFrom(
      of({ seq: 0, commits: [], items: [{ topic: 't', partition: 0, offset: 0, value }] }).pipe(
        recpipeGraph({
          recommender: rec,
          history,
          features: new FeatureStore({ emitRows: false }),
          topK: 5,
          dedupeCapacity: 10,
          modelVersion: 'v',
          idlePartitionMs: 0,
          userIdHashKey: 'k',
        }),
      ),
    );
    const pseudonym = userIdHasher('k')('alice@example.com');
    expect(learned).toEqual([pseudonym]);
    expect(out.recommendations.map((r) => r.userId)).toEqual([pseudonym]);
    expect([...out.purchases.keys()]).toEqual([pseudonym]);
    expect(history.has('alice@example.com')).toBe(false);
  });
});

describe('recpipeGraph beforeLearn (issue 12: the Kafka key is never trusted)', () => {
  it('sees each parsed user id once, pseudonymised once, whatever the message key says', async () => {
    const seen: string[][] = [];
    const learned: string[] = [];
    const rec: Recommender = {
      name: 'spy',
      learn: (e: ClickEvent) => void learned.push(e.userId),
      recommend: () => [],
    };
    const msg = (offset: number, user: string, key: string) => ({
      topic: 't',
      partition: 0,
      offset,
      key,
      value: JSON.stringify({
        event_id: `e${offset}`,
        ts: 1,
        user_id: user,
        item_id: 'i',
        type: 'view',
      }),
    });
    await lastValueFrom(
      of({ seq: 0, commits: [], items: [msg(0, 'alice', 'mallory'), msg(1, 'bob', 'alice')] }).pipe(
        recpipeGraph({
          recommender: rec,
          history: new PurchaseHistory(),
          features: new FeatureStore({ emitRows: false }),
          topK: 5,
          dedupeCapacity: 10,
          modelVersion: 'v',
          idlePartitionMs: 0,
          userIdHashKey: 'k',
          beforeLearn: async (b) => {
            // loading state happens before learning
            expect(learned).toEqual([]);
            seen.push(b.events.map((s) => s.event.userId));
          },
        }),
      ),
    );
    const h = userIdHasher('k');
    expect(seen).toEqual([[h('alice'), h('bob')]]);
    expect(learned).toEqual([h('alice'), h('bob')]);
  });
});
