import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EVENT_COLUMNS,
  FEATURE_COLUMNS,
  RECOMMENDATION_COLUMNS,
  encodeEvents,
  encodeFeatures,
  encodeRecommendations,
} from '../../sinks/clickhouse-rows.js';
import { toDateTime } from '../../sinks/clickhouse-schema.js';

/** Any string a producer could send, including quotes, backslashes, controls and astral chars. */
const text = fc.string({ unit: 'binary', maxLength: 40 });
const finiteOrNot = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity));
const ms = fc.integer({ min: 0, max: 4_102_444_800_000 });
/** What a generic JSON encoder makes of a number: non-finite ones become null, -0 is 0. */
const jsonNumber = (x: number): number | null => (Number.isFinite(x) ? x + 0 : null);

describe('ClickHouse JSONEachRow encoders', () => {
  it('events: each line is the JSON of the row object, whatever the strings hold', () => {
    fc.assert(
      fc.property(
        text,
        text,
        text,
        fc.option(finiteOrNot, { nil: undefined }),
        ms,
        (id, user, item, price, ts) => {
          const event = {
            eventId: id,
            ts,
            userId: user,
            itemId: item,
            type: 'view' as const,
            price,
          };
          const out: string[] = [];
          encodeEvents([{ event, topic: 't', partition: 2, offset: 7 }], 1_000, out);
          const row = JSON.parse(out[0] as string) as Record<string, unknown>;
          expect(Object.keys(row)).toEqual([...EVENT_COLUMNS]);
          expect(row).toEqual({
            event_id: id,
            ts: toDateTime(ts),
            ts_ms: ts,
            user_id: user,
            item_id: item,
            type: 'view',
            session_id: '',
            category: '',
            price: price === undefined ? null : jsonNumber(price),
            quantity: null,
            props: '',
            source_topic: 't',
            source_partition: 2,
            source_offset: 7,
            ingested_at: 1,
          });
        },
      ),
    );
  });

  it('features and recommendations round-trip through JSON.parse', () => {
    fc.assert(
      fc.property(
        text,
        text,
        finiteOrNot,
        ms,
        fc.array(fc.tuple(text, finiteOrNot, text), { maxLength: 5 }),
        (key, feature, value, ts, items) => {
          const f: string[] = [];
          const set = {
            entity: 'item' as const,
            key,
            family: 'item_1h',
            windowStart: ts,
            windowEnd: ts + 1,
            ts,
          };
          encodeFeatures([{ ...set, names: [feature, 'zero'], values: [value, 0] }], f);
          expect(f).toHaveLength(value === 0 ? 0 : 1); // zeros are not stored
          if (value !== 0) {
            const fr = JSON.parse(f[0] as string) as Record<string, unknown>;
            expect(Object.keys(fr)).toEqual([...FEATURE_COLUMNS]);
            expect(fr).toMatchObject({
              key,
              feature,
              value: jsonNumber(value),
              window_end_ms: ts + 1,
            });
          }

          const r: string[] = [];
          const served = items.map(([itemId, score, reason]) => ({ itemId, score, reason }));
          encodeRecommendations(
            [{ userId: key, items: served, modelVersion: feature, eventTs: ts, updatedAt: ts }],
            r,
          );
          const rr = JSON.parse(r[0] as string) as Record<string, unknown>;
          expect(Object.keys(rr)).toEqual([...RECOMMENDATION_COLUMNS]);
          expect(rr).toMatchObject({
            user_id: key,
            model_version: feature,
            items: served.map((i) => i.itemId),
            reasons: served.map((i) => i.reason),
          });
          // quoted decimals (one text shared with Redis) or, with a non-finite score, plain
          // numbers and null: ClickHouse reads either into the same Float64
          const scores = rr.scores as (string | number | null)[];
          expect(scores.map((x) => (x === null ? null : Number(x)))).toEqual(
            served.map((i) => jsonNumber(i.score)),
          );
          if (served.every((i) => Number.isFinite(i.score)))
            expect(scores).toEqual(served.map((i) => String(i.score)));
        },
      ),
    );
  });
});
