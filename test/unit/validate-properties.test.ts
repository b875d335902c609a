import fc from 'fast-check';
import { lastValueFrom, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FUTURE_SKEW_MS, validateMessage } from '../../stream/validate-event.js';
import { validateItemMessage } from '../../stream/validate-item.js';
import { parseMessages } from '../../operators/parse-messages.js';
import { reasonCode } from '../../sinks/types.js';

/**
 * Issue 12: arbitrary values (nested, huge, prototype names, any unicode, any bytes) in every
 * field never throw out of the parse/validate path, and whatever is accepted keeps the rules.
 */
const CODES = new Set([
  'oversized',
  'invalid_utf8',
  'too_deep',
  'malformed_json',
  'not_an_object',
  'missing_field',
  'invalid_event_id',
  'invalid_user_id',
  'invalid_item_id',
  'invalid_session_id',
  'invalid_category',
  'invalid_id',
  'invalid_ts',
  'ts_in_future',
  'invalid_type',
  'invalid_price',
  'invalid_quantity',
  'invalid_number',
  'invalid_props',
  'invalid_title',
  'invalid_in_stock',
]);
const FIELDS = [
  'event_id',
  'ts',
  'user_id',
  'item_id',
  'type',
  'session_id',
  'category',
  'price',
  'quantity',
  'props',
];
const PROTO = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
const NOW = Date.now();

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }), // any code point, lone surrogates included
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom(
    ...PROTO,
    '',
    'view',
    'purchase',
    '2024-02-30',
    '2024-02-29T12:00:00Z',
    'x'.repeat(200),
  ),
);
const number = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    0,
    -1,
    1e300,
    1e308,
    -0,
    1_000_000,
    1_000_001,
    1e9,
    NOW,
    NOW + DEFAULT_MAX_FUTURE_SKEW_MS + 1,
  ),
);
const value: fc.Arbitrary<unknown> = fc.oneof(
  { depthSize: 'small' },
  text,
  number,
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 6 }),
  fc.dictionary(fc.oneof(text, fc.constantFrom(...PROTO)), fc.jsonValue({ maxDepth: 3 })),
);
/** A message as text: a mostly plausible event with arbitrary values, extra keys and repeats. */
const message = fc
  .tuple(
    fc.dictionary(fc.constantFrom(...FIELDS, ...PROTO), value, { maxKeys: 14 }),
    fc.record({
      base: fc.boolean(),
      nest: fc.nat({ max: 6000 }),
      nestField: fc.constantFrom(...FIELDS),
      bom: fc.boolean(),
      duplicate: fc.option(fc.tuple(fc.constantFrom(...FIELDS), fc.string()), { nil: undefined }),
    }),
  )
  .map(([fields, o]) => {
    const base = o.base
      ? { event_id: 'e', ts: NOW - 1000, user_id: 'u', item_id: 'i', type: 'view', ...fields }
      : fields;
    let json = JSON.stringify(base);
    if (o.nest > 0) {
      const deep = `${'['.repeat(o.nest)}1${']'.repeat(o.nest)}`;
      json = `{"${o.nestField}":${deep},${json.slice(1)}`;
    }
    if (o.duplicate)
      json = `{"${o.duplicate[0]}":${JSON.stringify(o.duplicate[1])},${json.slice(1)}`;
    return o.bom ? `\uFEFF${json}` : json;
  });

const bytes = fc.oneof(
  message.map((m) => Buffer.from(m)),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.tuple(message, fc.nat(), fc.integer({ min: 0x80, max: 0xff })).map(([m, at, byte]) => {
    const b = Buffer.from(m);
    if (b.length > 0) b[at % b.length] = byte;
    return b;
  }),
);

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

describe('validation never throws (property)', () => {
  it('clickstream messages: every outcome is an event that keeps the rules or a known reason code', () => {
    fc.assert(
      fc.property(fc.oneof(message, bytes), (raw) => {
        const v = validateMessage(raw, { now: () => NOW });
        if (!v.ok) {
          expect(CODES.has(reasonCode(v.reason)), v.reason).toBe(true);
          return;
        }
        const e = v.event;
        for (const id of [e.eventId, e.userId, e.itemId, e.sessionId, e.category]) {
          if (id === undefined) continue;
          expect(id.length).toBeGreaterThanOrEqual(1);
          expect(id.length).toBeLessThanOrEqual(128);
          expect(CONTROL.test(id)).toBe(false);
          expect(Buffer.from(id).toString('utf8')).toBe(id); // encodable: no lone surrogate
        }
        expect(e.ts).toBeLessThanOrEqual(NOW + DEFAULT_MAX_FUTURE_SKEW_MS);
        expect(e.ts).toBeGreaterThanOrEqual(0);
        if (e.price !== undefined) expect(e.price >= 0 && e.price <= 1e9).toBe(true);
        if (e.quantity !== undefined)
          expect(Number.isInteger(e.quantity) && e.quantity >= 1 && e.quantity <= 1e6).toBe(true);
        if (e.props !== undefined) expect(JSON.parse(e.propsJson as string)).toEqual(e.props);
      }),
      { numRuns: 3_000 },
    );
  });

  it('catalog messages likewise', () => {
    fc.assert(
      fc.property(fc.oneof(message, bytes), (raw) => {
        const v = validateItemMessage(raw, { now: () => NOW });
        if (!v.ok) expect(CODES.has(reasonCode(v.reason)), v.reason).toBe(true);
      }),
      { numRuns: 1_000 },
    );
  });

  it('a batch of arbitrary messages through parseMessages: each message is one event or one dead letter', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(message, bytes), { maxLength: 30 }), async (values) => {
        const out = await lastValueFrom(
          of({
            seq: 0,
            commits: [],
            items: values.map((value, offset) => ({ topic: 't', partition: 0, offset, value })),
          }).pipe(parseMessages(() => 0)),
        );
        expect(out.events.length + out.deadLetters.length).toBe(values.length);
        for (const d of out.deadLetters)
          expect(CODES.has(reasonCode(d.reason)), d.reason).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
