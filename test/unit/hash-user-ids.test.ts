import { createHmac } from 'node:crypto';
import { lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { hashUserIds, userIdHasher } from '../../operators/hash-user-ids.js';
import { parseMessages } from '../../operators/parse-messages.js';
import type { Batch, GraphBatch, RawMessage } from '../../operators/types.js';

const msg = (offset: number, value: unknown): RawMessage => ({
  topic: 't',
  partition: 0,
  offset,
  value: typeof value === 'string' ? value : JSON.stringify(value),
});

const ev = (id: string, user: string) => ({
  event_id: id,
  ts: 1_700_000_000_000,
  user_id: user,
  item_id: 'item-1',
  type: 'view',
});

async function through(key: string, items: RawMessage[]): Promise<GraphBatch> {
  const batch: Batch<RawMessage> = { seq: 0, items, commits: [] };
  const out = await lastValueFrom(
    of(batch).pipe(
      parseMessages(() => 0),
      hashUserIds(key),
      toArray(),
    ),
  );
  return out[0] as GraphBatch;
}

describe('hashUserIds', () => {
  it('replaces user ids by HMAC-SHA256 under the key, deterministically', async () => {
    const out = await through('k1', [
      msg(0, ev('a', 'alice')),
      msg(1, ev('b', 'alice')),
      msg(2, ev('c', 'bob')),
    ]);
    const ids = out.events.map((e) => e.event.userId);
    const expected = createHmac('sha256', 'k1').update('alice').digest('hex');
    expect(ids[0]).toBe(expected);
    expect(ids[1]).toBe(expected);
    expect(ids[2]).not.toBe(expected);
    expect(ids.every((id) => /^[0-9a-f]{64}$/.test(id))).toBe(true);
    // Nothing else about the event changes.
    expect(out.events.map((e) => e.event.eventId)).toEqual(['a', 'b', 'c']);
    expect(out.events[0]?.event.itemId).toBe('item-1');
    expect(out.events[0]?.offset).toBe(0);
  });

  it('gives different pseudonyms under different keys, and none equal to the raw id', () => {
    const a = userIdHasher('key-a')('17850');
    const b = userIdHasher('key-b')('17850');
    expect(a).not.toBe(b);
    expect(a).not.toContain('17850');
    expect(a).toBe(userIdHasher('key-a')('17850'));
  });

  it('leaves dead letters verbatim and passes empty batches through', async () => {
    const out = await through('k', [msg(0, 'not json'), msg(1, ev('x', 'carol'))]);
    expect(out.deadLetters).toHaveLength(1);
    expect(out.deadLetters[0]?.payload).toBe('not json');
    expect(out.events[0]?.event.userId).toBe(userIdHasher('k')('carol'));
    const empty = await through('k', []);
    expect(empty.events).toEqual([]);
  });

  it('refuses an empty key rather than silently not hashing', () => {
    expect(() => hashUserIds('')).toThrow(/non-empty key/);
  });
});
