import { ClickHouseError } from '@clickhouse/client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifySinkError } from '../../sinks/errors.js';
import { readIsolating, writeIsolating } from '../../sinks/isolate.js';

/** What ioredis rejects with for a server error reply (redis-errors' ReplyError has this name). */
class ReplyError extends Error {
  override readonly name = 'ReplyError';
}

const constraint = (): ClickHouseError =>
  new ClickHouseError({ message: 'Constraint violated', code: '469', type: 'VIOLATED_CONSTRAINT' });

describe('classifySinkError: row-caused or an outage', () => {
  it.each([
    ['a ClickHouse constraint', constraint(), 'row'],
    [
      'a ClickHouse parse error',
      new ClickHouseError({
        message: 'x',
        code: '27',
        type: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
      }),
      'row',
    ],
    [
      'an unknown ClickHouse table',
      new ClickHouseError({ message: 'x', code: '60', type: 'UNKNOWN_TABLE' }),
      'outage',
    ],
    [
      'ClickHouse out of memory',
      new ClickHouseError({ message: 'x', code: '241', type: 'MEMORY_LIMIT_EXCEEDED' }),
      'outage',
    ],
    [
      'WRONGTYPE',
      new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'),
      'row',
    ],
    ['a score Redis cannot take', new ReplyError('ERR value is not a valid float'), 'row'],
    ['Redis OOM', new ReplyError('OOM command not allowed when used memory > maxmemory'), 'outage'],
    ['Redis loading', new ReplyError('LOADING Redis is loading the dataset in memory'), 'outage'],
    [
      'wrapped by the sink',
      new Error('Redis addPurchases failed', { cause: new ReplyError('WRONGTYPE x') }),
      'row',
    ],
    [
      'a row too deep to serialise',
      new Error('insert failed', { cause: new RangeError('Maximum call stack size exceeded') }),
      'row',
    ],
    ['fetch failed', new TypeError('fetch failed'), 'outage'],
    [
      'connection refused',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:18123'), { code: 'ECONNREFUSED' }),
      'outage',
    ],
    ['anything else', new Error('socket hang up'), 'outage'],
    ['not even an Error', 'boom', 'outage'],
  ])('%s', (_name, err, kind) => {
    expect(classifySinkError(err)).toBe(kind);
  });
});

describe('writeIsolating', () => {
  it('writes every good row and returns exactly the refused ones, whatever their positions (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 0, maxLength: 200 }), async (bad) => {
        const rows = bad.map((b, i) => ({ i, bad: b }));
        const written = new Set<number>();
        let writes = 0;
        const rejected = await writeIsolating(rows, async (part) => {
          writes++;
          if (part.some((r) => r.bad)) throw new Error('insert failed', { cause: constraint() });
          for (const r of part) written.add(r.i);
        });
        const expectedBad = rows.filter((r) => r.bad).map((r) => r.i);
        expect(rejected.map((r) => r.index).sort((a, b) => a - b)).toEqual(expectedBad);
        for (const r of rejected) expect(r.error).toContain('insert failed');
        expect([...written].sort((a, b) => a - b)).toEqual(
          rows.filter((r) => !r.bad).map((r) => r.i),
        );
        // bounded extra work: at most 2 writes per level per bad row, plus the first
        const levels = Math.ceil(Math.log2(Math.max(2, rows.length))) + 1;
        expect(writes).toBeLessThanOrEqual(1 + 2 * levels * Math.max(1, expectedBad.length));
      }),
      { numRuns: 200 },
    );
  });

  it('lets an outage through untouched, for the runtime to retry', async () => {
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await expect(writeIsolating([1, 2, 3], () => Promise.reject(down))).rejects.toBe(down);
  });

  it('never calls the store for no rows', async () => {
    let calls = 0;
    expect(await writeIsolating([], async () => void calls++)).toEqual([]);
    expect(calls).toBe(0);
  });
});

describe('readIsolating', () => {
  it('returns the readable keys and names the refused ones', async () => {
    const keys = ['a', 'b', 'poison', 'c', 'd'];
    const res = await readIsolating(keys, async (part) => {
      if (part.includes('poison')) throw new ReplyError('WRONGTYPE Operation against a key');
      return new Map(part.map((k) => [k, k.toUpperCase()]));
    });
    expect([...res.values].sort()).toEqual([
      ['a', 'A'],
      ['b', 'B'],
      ['c', 'C'],
      ['d', 'D'],
    ]);
    expect(res.refused.map((r) => r.row)).toEqual(['poison']);
  });
});
