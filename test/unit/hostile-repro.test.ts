/**
 * Issue 12's table, one row per test: each failed on main before the fix (see the commit message).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateMessage } from '../../stream/validate-event.js';
import { redisKeys } from '../../sinks/redis.js';
import { CatalogState, DEFAULT_POLICY, filterAndBoost } from '../../models/ranking/policy.js';
import { readInputRecords } from '../../pipeline/formats/input-records.js';
import { of } from 'rxjs';
import { filterRecommendations } from '../../operators/filter-recommendations.js';
import { batch, engine, ev, rec, runBatches, T0, HOUR } from './push-fixtures.js';

const good = { event_id: 'e1', ts: 1700000000000, user_id: 'u1', item_id: 'i1', type: 'view' };
const reasonOf = (raw: string | Buffer): string => {
  const v = validateMessage(raw);
  return v.ok ? 'accepted' : v.reason;
};

describe('issue 12 reproductions', () => {
  it('a type nested 5,000 arrays deep is a dead letter, not a RangeError', () => {
    const raw = `{"event_id":"e","ts":1,"user_id":"u","item_id":"i","type":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(() => reasonOf(raw)).not.toThrow();
    expect(reasonOf(raw)).toMatch(/^too_deep/);
  });

  it('props nested 4,500 levels are a dead letter', () => {
    const raw =
      JSON.stringify(good).slice(0, -1) + `,"props":{"a":${'['.repeat(4500)}${']'.repeat(4500)}}}`;
    expect(reasonOf(raw)).toMatch(/^too_deep/);
  });

  it('an event in year 2199 is ts_in_future', () => {
    expect(reasonOf(JSON.stringify({ ...good, ts: Date.UTC(2199, 0, 1) }))).toMatch(
      /^ts_in_future/,
    );
  });

  it('ids X and X:meta do not share a Redis key', () => {
    const k = redisKeys('p:');
    expect(k.rec('X:meta')).not.toBe(k.recMeta('X'));
  });

  it('items and categories named like Object.prototype members keep their score', () => {
    const policy = { ...DEFAULT_POLICY, boosts: { categories: { shoes: 2 }, items: { x: 2 } } };
    const catalog = new CatalogState();
    catalog.observeItem({ itemId: 'toString', ts: 1, category: 'constructor' });
    const out = filterAndBoost(
      [
        { itemId: 'constructor', score: 1, reason: '' },
        { itemId: 'toString', score: 0.5, reason: '' },
        { itemId: '__proto__', score: 0.2, reason: '' },
      ],
      catalog,
      policy,
    );
    expect(out.map((i) => i.itemId)).toEqual(['constructor', 'toString', '__proto__']);
    for (const i of out) expect(Number.isFinite(i.score)).toBe(true);
  });

  it('a click event cannot move a competitor item into a category that is never served', () => {
    const policy = { ...DEFAULT_POLICY, boosts: { categories: { banned: 0 }, items: {} } };
    const served: string[][] = [];
    of(
      batch({
        events: [ev('click', 'attacker', 'rival', T0, { category: 'banned' })],
        recs: [rec('victim', T0, [['rival', 1]])],
      }),
    )
      .pipe(filterRecommendations(new CatalogState(), policy))
      .subscribe((b) => served.push(...b.recommendations.map((r) => r.items.map((i) => i.itemId))));
    expect(served).toEqual([['rival']]);
  });

  it("a click's props.title and price never reach another user's push", () => {
    const e = engine({ abandonedCartDelayMs: HOUR });
    const out = runBatches(e, [
      batch({
        events: [
          ev('click', 'attacker', 'sku', T0, {
            price: 0.01,
            props: { title: 'FREE iPhone, click here' },
          }),
          ev('add_to_cart', 'victim', 'sku', T0 + 1000),
        ],
      }),
      batch({ events: [ev('view', 'other', 'x', T0 + 3 * HOUR)] }, 1),
    ]);
    const payloads = out.flatMap((b) => b.pushMessages ?? []).map((m) => m.value);
    expect(payloads.length).toBeGreaterThan(0);
    for (const p of payloads) {
      expect(p).not.toContain('FREE iPhone');
      expect(p).not.toContain('0.01');
    }
  });

  it('produce keys a line by its parsed user_id, not the first "user_id" text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostile-'));
    const file = join(dir, 'in.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ props: { user_id: 'evil' }, ...good, user_id: 'u1' }),
        '{"user_id":"first","event_id":"e","ts":1,"item_id":"i","type":"view","user_id":"second"}',
      ].join('\n'),
    );
    const keys: (string | undefined)[] = [];
    for await (const r of readInputRecords(file, 'jsonl'))
      if (r.kind === 'message') keys.push(r.key);
    expect(keys).toEqual(['u1', 'second']);
  });

  it.each([
    ['BOM', `\uFEFF${JSON.stringify(good)}`, 'accepted'],
    ['NUL in user_id', JSON.stringify({ ...good, user_id: 'u\u0000' }), 'invalid_id'],
    ['CR/LF in item_id', JSON.stringify({ ...good, item_id: 'i\r\n' }), 'invalid_id'],
    ['2024-02-30', JSON.stringify({ ...good, ts: '2024-02-30T00:00:00Z' }), 'invalid_ts'],
    ['quantity 1e300', JSON.stringify({ ...good, quantity: 1e300 }), 'invalid_number'],
    ['price 1e308', JSON.stringify({ ...good, price: 1e308 }), 'invalid_number'],
  ])('%s', (_name, raw, code) => {
    expect(reasonOf(raw).split(':')[0]).toBe(code);
  });

  it('invalid UTF-8 is a dead letter, so two different byte strings never become one id', () => {
    const a = Buffer.concat([
      Buffer.from('{"event_id":"e","ts":1,"user_id":"u'),
      Buffer.from([0xff]),
      Buffer.from('","item_id":"i","type":"view"}'),
    ]);
    expect(reasonOf(a).split(':')[0]).toBe('invalid_utf8');
  });
});
