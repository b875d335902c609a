import { firstValueFrom, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ErasedUsers } from '../../privacy/erased-users.js';
import { dropErased } from '../../operators/drop-erased.js';
import type { GraphBatch, SourcedEvent } from '../../operators/types.js';

const ev = (userId: string, ts: number): SourcedEvent =>
  ({
    topic: 'clickstream',
    partition: 0,
    offset: ts,
    event: { eventId: `e${ts}`, ts, userId, itemId: 'i', type: 'view' },
  }) as SourcedEvent;

describe('ErasedUsers / dropErased', () => {
  it('drops what predates the request, keeps later activity and other users', async () => {
    const erased = new ErasedUsers();
    erased.add('gone', 100);
    const batch = { events: [ev('gone', 50), ev('gone', 100), ev('gone', 101), ev('kept', 1)] };
    const out = await firstValueFrom(of(batch as unknown as GraphBatch).pipe(dropErased(erased)));
    expect(out.events.map((e) => `${e.event.userId}@${e.event.ts}`)).toEqual([
      'gone@101',
      'kept@1',
    ]);
  });

  it('is bounded by count and by age', () => {
    let now = 0;
    const erased = new ErasedUsers(2, 1_000, () => now);
    erased.add('a', 10);
    erased.add('b', 10);
    erased.add('c', 10);
    expect([erased.covers('a', 1), erased.covers('b', 1), erased.covers('c', 1)]).toEqual([
      false,
      true,
      true,
    ]);
    now = 5_000;
    erased.add('d', 10);
    expect(erased.size).toBe(1);
    expect(erased.covers('d', 1)).toBe(true);
  });
});
