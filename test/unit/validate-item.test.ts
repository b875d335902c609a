import { describe, expect, it } from 'vitest';
import { lastValueFrom, of } from 'rxjs';
import { validateItemMessage } from '../../stream/validate-item.js';
import { parseMessages } from '../../operators/parse-messages.js';

describe('item catalog events (topic items)', () => {
  it('accepts item_id + ts with optional title, category, price, in_stock', () => {
    const v = validateItemMessage(
      JSON.stringify({
        item_id: 'sku1',
        ts: '2026-11-01T10:00:00Z',
        title: 'Mug',
        category: 'kitchen',
        price: 4.5,
        in_stock: false,
      }),
    );
    expect(v).toEqual({
      ok: true,
      item: {
        itemId: 'sku1',
        ts: Date.UTC(2026, 10, 1, 10),
        title: 'Mug',
        category: 'kitchen',
        price: 4.5,
        inStock: false,
      },
    });
  });

  it.each([
    ['{', 'malformed_json'],
    [JSON.stringify({ ts: 1 }), 'missing_field: item_id'],
    [JSON.stringify({ item_id: 'a' }), 'missing_field: ts'],
    [JSON.stringify({ item_id: 'a', ts: 1, price: -1 }), 'invalid_price'],
    [JSON.stringify({ item_id: 'a', ts: 1, in_stock: 'yes' }), 'invalid_in_stock'],
  ])('rejects %s (%s)', (raw, reason) => {
    const v = validateItemMessage(raw);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toContain(reason);
  });

  it('parseMessages routes the items topic to catalog updates and the rest to events', async () => {
    const out = await lastValueFrom(
      of({
        seq: 0,
        commits: [],
        items: [
          {
            topic: 'items',
            partition: 0,
            offset: 0,
            value: JSON.stringify({ item_id: 'a', ts: 5, price: 2 }),
          },
          {
            topic: 'clicks',
            partition: 0,
            offset: 0,
            value: JSON.stringify({
              event_id: 'e',
              ts: 5,
              user_id: 'u',
              item_id: 'a',
              type: 'view',
            }),
          },
          {
            topic: 'items',
            partition: 0,
            offset: 1,
            value: JSON.stringify({
              event_id: 'e2',
              ts: 5,
              user_id: 'u',
              item_id: 'a',
              type: 'view',
              price: 'x',
            }),
          },
        ],
      }).pipe(parseMessages(() => 0, 'items')),
    );
    expect(out.items).toEqual([{ itemId: 'a', ts: 5, price: 2 }]);
    expect(out.events.map((e) => e.event.eventId)).toEqual(['e']);
    expect(out.deadLetters.map((d) => [d.topic, d.offset, d.reason.split(':')[0]])).toEqual([
      ['items', 1, 'invalid_price'],
    ]);
  });
});
