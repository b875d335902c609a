import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { createJobModel } from '../../pipeline/runtime/job-model.js';
import { sessionsQuery, trainSequenceOnce } from '../../pipeline/runtime/sequence-trainer.js';
import { stackUp } from '../../stack/stack.js';
import { createClickHouseSink, type ClickHouseSink } from '../../sinks/clickhouse.js';
import type { StoredEvent } from '../../sinks/types.js';
import { createLogger } from '../../pipeline/logger.js';

/**
 * The GRU's nearline round on the real ClickHouse: sessions that walk item chains are stored
 * in `events` (with a duplicated delivery and a removal that must not count), the trainer reads
 * them back with its query, fits, and swaps the model into the live `default` blend of a job
 * configured with `sequence.weight`; the blend then proposes the chain's next item.
 */
const db = `seq_nl_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
const cfg = loadConfig(undefined, {
  ...process.env,
  RECPIPE_SEQUENCE_WEIGHT: '1',
  RECPIPE_SEQUENCE_TRAINER_MIN_SESSIONS: '50',
  RECPIPE_SEQUENCE_TRAINER_EPOCHS: '6',
  RECPIPE_SEQUENCE_TRAINER_LOOKBACK_MS: String(60 * 86_400_000),
});
const T0 = Date.UTC(2026, 10, 2, 8);
const CHAINS = 8;

let sink: ClickHouseSink;
let admin: ClickHouseClient;

function stored(n: number, user: string, ts: number, item: string, type = 'view'): StoredEvent {
  return {
    event: {
      eventId: `e${n}`,
      ts,
      userId: user,
      itemId: item,
      type: type as StoredEvent['event']['type'],
      sessionId: `${user}-${Math.floor(ts / 3_600_000)}`,
    },
    topic: 'clickstream',
    partition: 0,
    offset: n,
  };
}

/** 300 sessions, each one chain walked in order (c3s0, c3s1, c3s2, c3s3). */
function chainEvents(): StoredEvent[] {
  const out: StoredEvent[] = [];
  for (let s = 0; s < 300; s++) {
    const chain = (s * 5) % CHAINS;
    const user = `u${s % 60}`;
    const t0 = T0 + s * 2 * 3_600_000;
    for (let step = 0; step < 4; step++)
      out.push(stored(out.length, user, t0 + step * 60_000, `c${chain}s${step}`));
  }
  out.push(out[5] as StoredEvent); // a duplicated delivery of one event
  out.push(stored(out.length, 'u1', T0 + 1000, 'c7s3', 'remove_from_cart'));
  return out;
}

const quiet = createLogger('silent');

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  sink = createClickHouseSink(cfg, { database: db });
  await sink.migrate();
  admin = createClient({
    url: cfg.clickhouse.url,
    username: cfg.clickhouse.username,
    password: cfg.clickhouse.password,
  });
  await sink.insertEvents(chainEvents());
});

afterAll(async () => {
  await admin?.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => undefined);
  await admin?.close();
  await sink?.close();
});

describe('nearline GRU training from ClickHouse sessions', () => {
  it('reads sessions in user and time order without removals', async () => {
    const rows = await sink.query<{ user_id: string; ts_ms: string; item_id: string }>(
      sessionsQuery(db, cfg.sequence.trainer),
    );
    expect(rows.length).toBe(1201); // 1,200 views and the duplicate; no removal
    for (let r = 1; r < rows.length; r++) {
      const a = rows[r - 1]!;
      const b = rows[r]!;
      expect(a.user_id < b.user_id || (a.user_id === b.user_id && +a.ts_ms <= +b.ts_ms)).toBe(true);
    }
  });

  it('fits, swaps into the running blend, and the blend proposes what comes next', async () => {
    const job = createJobModel(cfg, undefined, quiet);
    const rec = job.recommender;
    // the serving process saw the same items (the model can only serve items it knows)
    for (const e of chainEvents()) rec.learn(e.event);
    const seq = (rec as unknown as { sequence?: unknown }).sequence;
    expect(seq).toBeDefined();
    const version = job.modelVersion as () => string;
    expect(version()).toMatch(/\/seq:none$/);

    const outcome = await trainSequenceOnce(
      { query: (q) => sink.query(q), database: db },
      seq as Parameters<typeof trainSequenceOnce>[1],
      cfg.sequence.trainer,
    );
    expect(outcome.skipped).toBeUndefined();
    expect(outcome.sessions).toBe(60); // one sequence per user: the GRU runs across sessions
    expect(outcome.items).toBe(4 * CHAINS);
    expect(outcome.swapped).toBe(true);
    // 3 of 4 steps follow a chain (the jump to the next chain is a guess among 8 starts)
    expect(outcome.hrNew).toBeGreaterThan(0.5);
    expect(version()).toMatch(/\/seq:nearline@/);

    rec.learn({
      eventId: 'q1',
      ts: T0 + 900 * 3_600_000,
      userId: 'new',
      itemId: 'c2s1',
      type: 'view',
    });
    const top = rec.recommend('new', 3, new Set());
    expect(top.map((x) => x.itemId)).toContain('c2s2');
  });
});
