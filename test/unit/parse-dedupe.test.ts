import fc from 'fast-check';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { BoundedIdSet } from '../../stream/bounded-id-set.js';
import { dedupeEvents } from '../../operators/dedupe-events.js';
import { parseMessages } from '../../operators/parse-messages.js';
import type { Batch, GraphBatch, RawMessage } from '../../operators/types.js';

const ev = (id: string, user = 'u1'): string =>
  JSON.stringify({
    event_id: id,
    ts: 1_700_000_000_000,
    user_id: user,
    item_id: 'i',
    type: 'view',
  });
const batch = (seq: number, values: string[]): Batch<RawMessage> => ({
  seq,
  items: values.map((value, i) => ({ topic: 't', partition: 0, offset: seq * 100 + i, value })),
  commits: [{ topic: 't', partition: 0, offset: seq * 100 + values.length }],
});
const summary = (b: GraphBatch) => ({
  ids: b.events.map((e) => e.event.eventId),
  dead: b.deadLetters.map((d) => `${d.offset}:${d.reason.split(':')[0]}`),
  dup: b.duplicates,
});

describe('parseMessages + dedupeEvents', () => {
  it('splits valid events from dead letters and drops repeated event ids across batches (marbles)', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(({ cold, expectObservable }) => {
      const input = cold('a-b-c|', {
        a: batch(0, [ev('e1'), '{bad', ev('e2')]),
        b: batch(1, [ev('e2'), ev('e3'), JSON.stringify({ event_id: 'x' })]),
        c: batch(2, []),
      });
      const out = input.pipe(
        parseMessages(() => 0),
        dedupeEvents(100),
        map(summary),
      );
      expectObservable(out).toBe('a-b-c|', {
        a: { ids: ['e1', 'e2'], dead: ['1:malformed_json'], dup: 0 },
        b: { ids: ['e3'], dead: ['102:missing_field'], dup: 1 },
        c: { ids: [], dead: [], dup: 0 },
      });
    });
  });

  it('keeps the commit points and counts every message', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(({ cold, expectObservable }) => {
      const b0 = batch(0, [ev('e1'), '']);
      const out = cold('a|', { a: b0 }).pipe(
        parseMessages(() => 7),
        dedupeEvents(10),
      );
      expectObservable(out).toBe('a|', {
        a: expect.objectContaining({ seq: 0, messages: 2, commits: b0.commits }),
      });
    });
  });
});

describe('BoundedIdSet', () => {
  it('matches a brute-force "last N distinct admitted ids" model', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 200 }),
        (cap, ids) => {
          const set = new BoundedIdSet(cap);
          const admitted: string[] = [];
          for (const n of ids) {
            const id = String(n);
            const window = admitted.slice(-cap);
            const expectedNew = !window.includes(id);
            expect(set.add(id)).toBe(expectedNew);
            if (expectedNew) admitted.push(id);
            expect(set.size).toBe(Math.min(cap, admitted.length));
          }
        },
      ),
    );
  });
});
