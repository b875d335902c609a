import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../models/event.js';
import { MAX_MESSAGE_BYTES, validateMessage } from '../../stream/validate-event.js';

/**
 * docs/events.schema.json is the published form of CONTRACT §1/§5's event rules. The validator
 * must accept exactly what the schema accepts, over a generated corpus of messages that mixes
 * valid fields with every kind of wrong one; the rules a JSON Schema cannot state (listed in the
 * schema's description) are checked separately, each as a case the schema lets through and the
 * validator refuses with its documented code.
 */
const schema = JSON.parse(readFileSync('docs/events.schema.json', 'utf8')) as object;
const schemaAccepts = new Ajv({ allErrors: false }).compile(schema);
/** A clock past the schema's last instant: `ts_in_future` is one of the rules it cannot state. */
const CLOCK = { now: () => Date.UTC(2300, 0, 1) };

const ABSENT = undefined;
const anyJson = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.string({ maxLength: 4 }),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);
/** Well-formed strings (no lone surrogates) with control characters and astral ones. */
const text = (min: number, max: number) =>
  fc.string({ unit: 'binary', minLength: min, maxLength: max });
const goodId = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 }) },
  { weight: 2, arbitrary: text(1, 130) },
  { weight: 1, arbitrary: fc.constantFrom('a'.repeat(128), '😀'.repeat(128), 'é'.repeat(128)) },
);
const badId = fc.oneof(
  fc.constantFrom('', 'a'.repeat(129), '😀'.repeat(129), 'a\u0000b', 'x\u007f', 'tab\t', '\n'),
  anyJson,
);
const id = fc.oneof({ weight: 9, arbitrary: goodId }, { weight: 1, arbitrary: badId });
const optionalId = fc.oneof(
  { weight: 4, arbitrary: fc.constant(ABSENT) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 4, arbitrary: id },
);

const pad = (n: number, w: number) => String(n).padStart(w, '0');
/** ISO-8601 texts near and past every boundary of the syntax and the calendar. */
const isoText = fc
  .record({
    // 1970-01-01 and 2199-12-31 are left out: a zone can move them out of range (a stated gap)
    year: fc.integer({ min: 1971, max: 2198 }),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    time: fc.option(
      fc.record({
        sep: fc.constantFrom('T', 't', ' ', 'x'),
        hour: fc.integer({ min: 0, max: 24 }),
        minute: fc.integer({ min: 0, max: 60 }),
        second: fc.option(fc.integer({ min: 0, max: 60 })),
        fraction: fc.option(fc.stringMatching(/^[.,]\d{0,10}$/)),
        zone: fc.option(
          fc.oneof(
            fc.constantFrom('Z', 'z', '+24', '+0060', 'UTC'),
            fc.stringMatching(/^[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?$/),
          ),
        ),
      }),
    ),
  })
  .map(({ year, month, day, time }) => {
    let s = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
    if (time) {
      s += `${time.sep}${pad(time.hour, 2)}:${pad(time.minute, 2)}`;
      if (time.second !== null) s += `:${pad(time.second, 2)}${time.fraction ?? ''}`;
      s += time.zone ?? '';
    }
    return s;
  });
const MAX_TS = Date.UTC(2200, 0, 1);
const ts = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: MAX_TS }) },
  { weight: 1, arbitrary: fc.double({ min: -1e3, max: MAX_TS + 1e3, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, MAX_TS, MAX_TS + 1) },
  { weight: 4, arbitrary: isoText },
  { weight: 1, arbitrary: fc.constantFrom('2024-02-29', '2023-02-29', '2100-02-29', '2000-02-29') },
  { weight: 1, arbitrary: fc.oneof(fc.constant(ABSENT), anyJson) },
);
const type = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...EVENT_TYPES) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('teleport', 'VIEW', ''), anyJson) },
);
const price = fc.oneof(
  { weight: 3, arbitrary: fc.constant(ABSENT) },
  { weight: 3, arbitrary: fc.double({ min: -10, max: 2e9, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1e9, 1e9 + 1, -0.01) },
  { weight: 1, arbitrary: anyJson },
);
const quantity = fc.oneof(
  { weight: 3, arbitrary: fc.constant(ABSENT) },
  { weight: 3, arbitrary: fc.integer({ min: -2, max: 1_000_002 }) },
  { weight: 1, arbitrary: fc.constantFrom(1, 1_000_000, 1_000_001, 0, 1.5, 2.0) },
  { weight: 1, arbitrary: anyJson },
);
const props = fc.oneof(
  { weight: 3, arbitrary: fc.constant(ABSENT) },
  { weight: 2, arbitrary: fc.object({ maxDepth: 3, maxKeys: 4 }) },
  { weight: 1, arbitrary: anyJson },
);

const message = fc
  .record({
    event_id: fc.oneof(
      { weight: 20, arbitrary: id },
      { weight: 1, arbitrary: fc.constant(ABSENT) },
    ),
    ts,
    user_id: fc.oneof({ weight: 20, arbitrary: id }, { weight: 1, arbitrary: fc.constant(ABSENT) }),
    item_id: fc.oneof({ weight: 20, arbitrary: id }, { weight: 1, arbitrary: fc.constant(ABSENT) }),
    type: fc.oneof({ weight: 20, arbitrary: type }, { weight: 1, arbitrary: fc.constant(ABSENT) }),
    session_id: optionalId,
    category: optionalId,
    price,
    quantity,
    props,
    // fields the contract does not name are allowed and ignored
    x_extra: fc.option(anyJson, { nil: ABSENT }),
  })
  .map((o) => JSON.stringify(o))
  // the 16 KiB bound is one of the rules a schema cannot state
  .filter((s) => Buffer.byteLength(s) <= MAX_MESSAGE_BYTES);

const verdicts = (line: string) => {
  const v = validateMessage(line, CLOCK);
  return { validator: v.ok, schema: schemaAccepts(JSON.parse(line)) === true, v };
};

describe('docs/events.schema.json against the validator', () => {
  it('accepts exactly the messages the validator accepts, over a generated corpus', () => {
    fc.assert(
      fc.property(message, (line) => {
        const { validator, schema: bySchema, v } = verdicts(line);
        const why = v.ok ? 'accepted' : v.reason;
        expect(
          validator,
          `${line}\nvalidator: ${why}\nschema: ${JSON.stringify(schemaAccepts.errors)}`,
        ).toBe(bySchema);
      }),
      { numRuns: 4000 },
    );
  });

  it('the corpus has both verdicts in good number', () => {
    const sample = fc.sample(message, { numRuns: 2000, seed: 17 });
    const accepted = sample.filter((l) => verdicts(l).validator).length;
    expect(accepted).toBeGreaterThan(sample.length * 0.15);
    expect(accepted).toBeLessThan(sample.length * 0.85);
  });

  it('agrees on numbers too large for a double (JSON.parse makes them Infinity)', () => {
    const head = '{"event_id":"e","user_id":"u","item_id":"i","type":"purchase"';
    for (const tail of [',"ts":1e400}', ',"ts":1,"price":1e400}', ',"ts":1,"quantity":1e400}']) {
      const { validator, schema: bySchema } = verdicts(head + tail);
      expect({ validator, schema: bySchema }, tail).toEqual({ validator: false, schema: false });
    }
  });

  it('the rules the schema cannot state: it lets them through, the validator refuses each', () => {
    const base = { event_id: 'e', ts: 1_700_000_000_000, user_id: 'u', item_id: 'i', type: 'view' };
    const nested = (n: number): unknown => (n === 0 ? 1 : [nested(n - 1)]);
    const cases: [string, string, { now: () => number } | undefined][] = [
      [JSON.stringify({ ...base, ts: Date.now() + 3_600_000 }), 'ts_in_future', undefined],
      [JSON.stringify({ ...base, user_id: '\ud800' }), 'invalid_id', CLOCK],
      [
        JSON.stringify({ ...base, props: { pad: 'x'.repeat(MAX_MESSAGE_BYTES) } }),
        'oversized',
        CLOCK,
      ],
      [JSON.stringify({ ...base, props: { deep: nested(33) } }), 'too_deep', CLOCK],
      [JSON.stringify({ ...base, ts: '1970-01-01T00:30+01:00' }), 'invalid_ts', CLOCK],
      [JSON.stringify({ ...base, ts: '2199-12-31T23:30-01:00' }), 'invalid_ts', CLOCK],
    ];
    for (const [line, code, clock] of cases) {
      expect(schemaAccepts(JSON.parse(line)), line.slice(0, 120)).toBe(true);
      const v = validateMessage(line, clock);
      expect(v.ok ? 'accepted' : v.reason.split(':')[0], line.slice(0, 120)).toBe(code);
    }
  });

  it('accepts the examples of docs/events.md', () => {
    const md = readFileSync('docs/events.md', 'utf8');
    const examples = [...md.matchAll(/```json\n(\{[^\n]*"event_id"[^\n]*\})\n```/g)].map(
      (m) => m[1] as string,
    );
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const line of examples)
      expect(verdicts(line), line).toMatchObject({ validator: true, schema: true });
  });
});
