import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackUp } from '../../stack/stack.js';
import { createClickHouseSink, type ClickHouseSink } from '../../sinks/clickhouse.js';
import { createClickHouseExec, type ClickHouseExec } from '../../sinks/clickhouse-erase.js';
import { applyRetention } from '../../sinks/clickhouse-retention.js';
import { waitFor } from '../support/cli.js';
import { isolatedRun } from '../support/run-env.js';

/**
 * Retention (issue 16) on the real ClickHouse (18.16 here, which has no table TTL): a pass deletes
 * exactly the rows older than each table's retention, by the time the row was written where the
 * table has it, and leaves tables with retention 0 alone.
 */
const { name: db, cfg } = isolatedRun('retention');
let sink: ClickHouseSink;
let ch: ClickHouseExec;
const DAY = 86_400_000;
const now = Date.now();

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  sink = createClickHouseSink(cfg);
  ch = createClickHouseExec(cfg);
  await sink.migrate();
});

afterAll(async () => {
  await ch?.command(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
  await ch?.close();
  await sink?.close();
});

const insert = (table: string, rows: object[]): Promise<void> =>
  ch.command(
    `INSERT INTO \`${db}\`.${table} FORMAT JSONEachRow ${rows.map((r) => JSON.stringify(r)).join(' ')}`,
  );
const ids = async (table: string, col: string): Promise<string[]> =>
  (
    await ch.query<{ v: string }>(`SELECT toString(${col}) AS v FROM \`${db}\`.${table} ORDER BY v`)
  ).map((r) => r.v);

describe('ClickHouse retention', () => {
  it('deletes what is older than each table keeps, nothing else', async () => {
    const event = (id: string, ingestedMs: number) => ({
      event_id: id,
      ts: 1_300_000_000, // 2011: event time does not count for events
      ts_ms: 1_300_000_000_000,
      user_id: 'u',
      item_id: 'i',
      type: 'view',
      ingested_at: Math.floor(ingestedMs / 1000),
    });
    await insert('events', [event('old', now - 500 * DAY), event('new', now - 10 * DAY)]);
    const dl = (offset: number, receivedMs: number) => ({
      topic: 't',
      partition: 0,
      offset,
      key: 'k',
      reason_code: 'x',
      reason: 'x',
      payload: '{}',
      payload_bytes: 2,
      payload_truncated: 0,
      received_at: Math.floor(receivedMs / 1000),
      received_ms: receivedMs,
    });
    await insert('dead_letters', [dl(1, now - 31 * DAY), dl(2, now - 29 * DAY)]);
    await insert('erasures', [
      {
        request_id: 'r',
        user_hashes: [],
        requested_at: 0,
        requested_ms: 0,
        completed_ms: 0,
        removed: '{}',
      },
    ]);

    const scheduled = await applyRetention(ch, db, { ...cfg.privacy.retention.days }, now);
    expect(scheduled.get('events')).toBe(1);
    expect(scheduled.get('dead_letters')).toBe(1);
    expect(scheduled.has('erasures')).toBe(false);
    await waitFor(
      'the mutations',
      async () => (await ids('events', 'event_id')).length === 1,
      30_000,
    );
    expect(await ids('events', 'event_id')).toEqual(['new']);
    await waitFor(
      'dead letters',
      async () => (await ids('dead_letters', 'offset')).length === 1,
      30_000,
    );
    expect(await ids('dead_letters', 'offset')).toEqual(['2']);
    expect(await ids('erasures', 'request_id')).toEqual(['r']);
    // a second pass finds nothing
    const again = await applyRetention(ch, db, { ...cfg.privacy.retention.days }, now);
    expect([...again.values()].every((n) => n === 0)).toBe(true);
  });
});
