import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES, validateMessage } from '../../stream/validate-event.js';

const good = { event_id: 'e1', ts: 1700000000000, user_id: 'u1', item_id: 'i1', type: 'view' };
const msg = (o: unknown): string => JSON.stringify(o);
const reasonOf = (raw: string): string => {
  const v = validateMessage(raw);
  if (v.ok) throw new Error('expected a dead letter');
  return v.reason;
};

describe('validateMessage (CONTRACT §1)', () => {
  it('accepts a minimal event and maps snake_case to the typed event', () => {
    const v = validateMessage(
      msg({ ...good, session_id: 's', category: 'c', price: 2.5, quantity: 3, props: { a: 1 } }),
    );
    expect(v).toEqual({
      ok: true,
      event: {
        eventId: 'e1',
        ts: 1700000000000,
        userId: 'u1',
        itemId: 'i1',
        type: 'view',
        sessionId: 's',
        category: 'c',
        price: 2.5,
        quantity: 3,
        props: { a: 1 },
        propsJson: '{"a":1}',
      },
    });
  });

  it('reads ISO-8601 timestamps, zone-less ones as UTC', () => {
    const a = validateMessage(msg({ ...good, ts: '2011-01-02T03:04:05Z' }));
    const b = validateMessage(msg({ ...good, ts: '2011-01-02 03:04:05' }));
    expect(a.ok && a.event.ts).toBe(Date.UTC(2011, 0, 2, 3, 4, 5));
    expect(b.ok && b.event.ts).toBe(Date.UTC(2011, 0, 2, 3, 4, 5));
  });

  it.each([
    ['{not json', 'malformed_json'],
    ['[1,2]', 'not_an_object'],
    ['"text"', 'not_an_object'],
    [msg({ ...good, event_id: undefined }), 'missing_field: event_id'],
    [msg({ ...good, user_id: '' }), 'invalid_user_id'],
    [msg({ ...good, item_id: 'x'.repeat(129) }), 'invalid_item_id'],
    [msg({ ...good, user_id: 42 }), 'invalid_user_id'],
    [msg({ ...good, ts: undefined }), 'missing_field: ts'],
    [msg({ ...good, ts: 'yesterday' }), 'invalid_ts'],
    [msg({ ...good, ts: -5 }), 'invalid_ts'],
    [msg({ ...good, type: 'like' }), 'invalid_type'],
    [msg({ ...good, type: undefined }), 'missing_field: type'],
    [msg({ ...good, price: -1 }), 'invalid_price'],
    [msg({ ...good, price: '3' }), 'invalid_price'],
    [msg({ ...good, quantity: 0 }), 'invalid_quantity'],
    [msg({ ...good, quantity: 1.5 }), 'invalid_quantity'],
    [msg({ ...good, props: [1] }), 'invalid_props'],
    [msg({ ...good, category: '' }), 'invalid_category'],
  ])('rejects %s with reason %s', (raw, reason) => {
    expect(reasonOf(raw)).toContain(reason);
  });

  it('rejects messages over 16 KiB before parsing them', () => {
    const big = msg({ ...good, props: { blob: 'x'.repeat(MAX_MESSAGE_BYTES) } });
    expect(reasonOf(big)).toMatch(/^oversized: \d+ bytes > 16384$/);
  });

  it('accepts a message of exactly 16 KiB', () => {
    const base = msg({ ...good, props: { blob: '' } });
    const exact = msg({
      ...good,
      props: { blob: 'x'.repeat(MAX_MESSAGE_BYTES - Buffer.byteLength(base)) },
    });
    expect(Buffer.byteLength(exact)).toBe(MAX_MESSAGE_BYTES);
    expect(validateMessage(exact).ok).toBe(true);
  });
});
