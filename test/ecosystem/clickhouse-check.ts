/**
 * Everything recpipe sends to ClickHouse, run on a current ClickHouse (chdb, through
 * chdb_server.py) for scripts/ecosystem-check.sh: the DDL, one batch of every insert the job's own
 * encoders produce, the documented queries, the product's readers and the erasure. The SQL comes
 * from the product's modules and docs/clickhouse-schema.md, so the check cannot drift from what
 * the job and the docs really send.
 *
 * Run from the repository root after the build:
 * `node dist/test/ecosystem/clickhouse-check.js DB PYTHON SESSION_DIR` (PYTHON has chdb).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadConfig } from '../../config/load.js';
import type { ClickEvent } from '../../models/event.js';
import { loggedPushesSql } from '../../pipeline/cli/evaluate-policy-command.js';
import { trainingQuery } from '../../pipeline/runtime/ranker-trainer.js';
import {
  DEAD_LETTER_COLUMNS,
  EVENT_COLUMNS,
  FEATURE_COLUMNS,
  MODEL_METRIC_COLUMNS,
  PUSH_DECISION_COLUMNS,
  PUSH_OUTCOME_COLUMNS,
  RECOMMENDATION_COLUMNS,
  SERVED_FEATURE_COLUMNS,
  encodeDeadLetters,
  encodeEvents,
  encodeFeatures,
  encodeModelMetrics,
  encodePushDecisions,
  encodePushOutcomes,
  encodeRecommendations,
  encodeServedFeatures,
} from '../../sinks/clickhouse-rows.js';
import {
  MIGRATIONS,
  TABLES,
  bootstrapStatements,
  quoteIdent,
  toDateTime,
} from '../../sinks/clickhouse-schema.js';
import { eraseClickHouseUser, type ClickHouseExec } from '../../sinks/clickhouse-erase.js';
import { recordErasure } from '../../sinks/clickhouse-erasures.js';
import type { PushDecision, StoredEvent } from '../../sinks/types.js';

/** The database named in docs/clickhouse-schema.md's queries; another one only for a shared server. */
const DB = process.argv[2] ?? 'recpipe';
const d = quoteIdent(DB);

/** Statements in the order `migrate()` runs them, ALTERs included (a fresh database has none). */
function ddl(): string[] {
  const out = [...bootstrapStatements(DB)];
  for (const m of MIGRATIONS) {
    for (const c of m.addColumns ?? [])
      out.push(
        `ALTER TABLE ${d}.${quoteIdent(c.table)} ADD COLUMN ${quoteIdent(c.column)} ${c.type}`,
      );
    out.push(...m.statements(DB));
  }
  return out;
}

const T0 = Date.UTC(2026, 10, 23, 9, 30, 0, 123);
const users = ['12347', 'u:2%', 'ünïcødé "q"'];
const items = ['85123A', '22423', 'i\\7'];
const types: ClickEvent['type'][] = ['view', 'click', 'add_to_cart', 'purchase', 'push_open'];

/** Rows that exercise each column's edge: optional fields absent, escapes, big and odd numbers. */
function events(): StoredEvent[] {
  const out: StoredEvent[] = [];
  for (let i = 0; i < 30; i++) {
    const type = types[i % types.length] as ClickEvent['type'];
    const props =
      i % 3 === 0 ? { push_id: `p${i}`, channel: 'push', nested: { a: [1, 'x'] } } : undefined;
    const event: ClickEvent = {
      eventId: `e${i}`,
      ts: T0 + i * 60_000 + (i === 29 ? 200 * 365 * 86_400_000 : 0),
      userId: users[i % users.length] as string,
      itemId: items[i % items.length] as string,
      type,
      ...(i % 2 === 0 && { sessionId: `s${i % 4}`, category: 'HOME' }),
      ...(type === 'purchase' && { price: i === 3 ? 0 : 2.55, quantity: i === 8 ? 1_000_000 : 6 }),
      ...(props && { props, propsJson: JSON.stringify(props) }),
    };
    out.push({ event, topic: 'clickstream', partition: i % 3, offset: 2 ** 40 + i });
  }
  return out;
}

function pushDecisions(): PushDecision[] {
  const decisions: PushDecision['decision'][] = ['sent', 'deferred', 'suppressed'];
  return users.flatMap((userId, u) =>
    decisions.map((decision, k) => ({
      userId,
      trigger: k === 0 ? 'abandoned_cart' : 'price_drop',
      decision,
      reason: `${decision}: email at 19:24 local (best hour), variant B; uplift +0.8 pp`,
      ts: T0 + (u * 3 + k) * 1000,
      items: items.slice(0, k + 1),
      idempotencyKey: `push-${u}-${k}`,
      ...(decision === 'sent' && { payload: JSON.stringify({ title: 'Still thinking?', u }) }),
      pushId: `push-${u}-${k}`,
      channel: decision === 'suppressed' && u === 2 ? '' : 'email',
      variant: 'B',
      propensity: 0.25,
      variantPropensity: 0.5,
      scheduledFor: T0 + 3_600_000,
      holdout: u === 1,
      pOpen: u === 0 ? Number.NaN : 0.12,
      uplift: 0.008,
      locale: 'en-GB',
    })),
  );
}

function inserts(): { table: string; columns: readonly string[]; lines: string[] }[] {
  const now = T0 + 5000;
  const evs = events();
  const recs = users.map((userId, u) => ({
    userId,
    items: items.map((itemId, i) => ({
      itemId,
      score: i === 2 ? Number.POSITIVE_INFINITY : 1 / (i + 1),
      reason: `bought together with ${items[(i + 1) % items.length] as string}`,
      features: [0.5, i, Number.NaN, 1e-30],
    })),
    modelVersion: `ranked@2026-11-23T12:00:00.000Z`,
    eventTs: T0 + u,
    updatedAt: now + u,
  }));
  const table = (name: string, columns: readonly string[], fill: (out: string[]) => void) => {
    const lines: string[] = [];
    fill(lines);
    return { table: name, columns, lines };
  };
  return [
    table(TABLES.schemaMigrations, ['version', 'name', 'applied_at'], (out) => {
      for (const m of MIGRATIONS)
        out.push(JSON.stringify({ version: m.version, name: m.name, applied_at: toDateTime(now) }));
    }),
    table(TABLES.events, EVENT_COLUMNS, (out) => encodeEvents(evs, now, out)),
    table(TABLES.deadLetters, DEAD_LETTER_COLUMNS, (out) =>
      encodeDeadLetters(
        [
          {
            topic: 'clickstream',
            partition: 0,
            offset: 7,
            payload: 'not json',
            reason: 'malformed_json: x',
            receivedAt: now,
          },
          {
            topic: 'clickstream',
            partition: 1,
            offset: 8,
            key: 'u',
            payload: 'x'.repeat(70_000),
            reason: 'oversized',
            receivedAt: now,
          },
          {
            topic: 'items',
            partition: 2,
            offset: 9,
            payload: '{"user_id":"\\ud83d","n":"\ufffd"}',
            reason: 'invalid_utf8',
            receivedAt: now,
          },
        ],
        out,
      ),
    ),
    table(TABLES.recommendations, RECOMMENDATION_COLUMNS, (out) =>
      encodeRecommendations(recs, out),
    ),
    table(TABLES.servedFeatures, SERVED_FEATURE_COLUMNS, (out) => encodeServedFeatures(recs, out)),
    table(TABLES.features, FEATURE_COLUMNS, (out) =>
      encodeFeatures(
        [
          {
            entity: 'user',
            key: '12347',
            family: 'user_1h',
            windowStart: T0 - 3_600_000,
            windowEnd: T0,
            ts: T0,
            names: ['view_1h', 'purchase_1h', 'zero_1h'],
            values: [3, 1, 0],
          },
          {
            entity: 'item',
            key: '85123A',
            family: 'item_24h',
            windowStart: T0 - 86_400_000,
            windowEnd: T0,
            ts: T0,
            names: ['ctr_24h'],
            values: [Number.NaN],
          },
          {
            entity: 'category',
            key: 'HOME',
            family: 'user_state',
            windowStart: 0,
            windowEnd: 0,
            ts: T0,
            names: ['last_price'],
            values: [2.55],
          },
        ],
        out,
      ),
    ),
    table(TABLES.pushNotifications, PUSH_DECISION_COLUMNS, (out) =>
      encodePushDecisions(pushDecisions(), out),
    ),
    table(TABLES.pushOutcomes, PUSH_OUTCOME_COLUMNS, (out) =>
      encodePushOutcomes(
        (['open', 'click', 'purchase'] as const).map((kind, k) => ({
          pushId: 'push-0-0',
          userId: '12347',
          kind,
          ts: T0 + 60_000 * (k + 1),
          eventId: `e${k}`,
          itemId: '85123A',
          trigger: 'abandoned_cart',
          channel: 'email',
          variant: 'B',
          holdout: k === 2,
          itemMatch: k !== 1,
          pushTs: T0,
        })),
        out,
      ),
    ),
    table(TABLES.modelMetrics, MODEL_METRIC_COLUMNS, (out) =>
      encodeModelMetrics(
        [
          { ts: T0, model: 'hybrid', metric: 'hr_at_10', value: 0.21 },
          { ts: T0, model: 'hybrid', metric: 'ndcg_at_10', value: Number.NaN },
        ],
        out,
      ),
    ),
  ];
}

/** Every statement of the ```sql blocks of docs/clickhouse-schema.md, comments dropped. */
function docQueries(): string[] {
  const md = readFileSync('docs/clickhouse-schema.md', 'utf8');
  const out: string[] = [];
  for (const block of md.matchAll(/```sql\n([\s\S]*?)```/g)) {
    const body = (block[1] as string)
      .split('\n')
      .map((l) => l.replace(/\s*--.*$/, ''))
      .join('\n');
    for (const stmt of body.split(';'))
      if (stmt.trim() !== '') out.push(stmt.trim().replaceAll('recpipe.', `${DB}.`));
  }
  return out;
}

/** recpipe's ClickHouseExec over chdb_server.py: the product's own SQL, unchanged, on chdb. */
function chdbExec(python: string, sessionDir: string): ClickHouseExec & { version(): string } {
  const child = spawn(python, ['test/ecosystem/chdb_server.py', sessionDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiting: ((a: Answer) => void)[] = [];
  let version = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    const a = JSON.parse(line) as Answer;
    if (a.ok) version = a.version;
    waiting.shift()?.(a);
  });
  const ask = (sql: string, format: string | null): Promise<string> =>
    new Promise((resolve, reject) => {
      waiting.push((a) => (a.ok ? resolve(a.text) : reject(new Error(a.error))));
      child.stdin.write(`${JSON.stringify({ sql, format })}\n`);
    });
  return {
    async query<T>(sql: string) {
      const text = await ask(sql, 'JSONEachRow');
      return text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as T);
    },
    async command(sql) {
      await ask(sql, null);
    },
    async close() {
      child.stdin.end();
      await new Promise((r) => child.once('exit', r));
    },
    version: () => version,
  };
}

type Answer = { ok: true; text: string; version: string } | { ok: false; error: string };

async function main(): Promise<number> {
  const [python = 'python3', sessionDir = '.state/ecosystem/chdb-session'] = process.argv.slice(3);
  const ch = chdbExec(python, sessionDir);
  const failures: string[] = [];
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      failures.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
      return undefined;
    }
  };
  const count = async (table: string): Promise<number> => {
    const [r] = await ch.query<{ n: string }>(`SELECT count() AS n FROM ${d}.${table} FINAL`);
    return Number(r?.n ?? -1);
  };

  const statements = ddl();
  for (const [i, sql] of statements.entries())
    await attempt(`DDL #${i + 1} (${sql.split(/\s+/).slice(0, 6).join(' ')})`, () =>
      ch.command(sql),
    );

  // Strict: an encoder key that is not a named column must fail here, not be dropped quietly.
  const tables = inserts();
  for (const { table, columns, lines } of tables) {
    if (lines.length === 0) failures.push(`insert ${table}: the encoders produced no rows`);
    const cols = columns.map((c) => `\`${c}\``).join(', ');
    const sql = `INSERT INTO ${d}.${table} (${cols}) SETTINGS input_format_skip_unknown_fields = 0 FORMAT JSONEachRow\n${lines.join('\n')}`;
    if ((await attempt(`insert ${table}`, () => ch.command(sql).then(() => true))) !== true)
      continue;
    const n = await attempt(`count ${table}`, () => count(table));
    if (n !== undefined && n !== lines.length)
      failures.push(`insert ${table}: ${lines.length} rows sent, ${n} stored`);
  }

  let rowsReturned = 0;
  const reads = queries();
  for (const q of reads) {
    const rows = await attempt(
      `query from ${q.from} (${q.sql.replace(/\s+/g, ' ').slice(0, 70)})`,
      () => ch.query(q.sql),
    );
    rowsReturned += rows?.length ?? 0;
  }

  // Erasure (CONTRACT §5): its audit row, then the user's rows gone from every table, through
  // the product's own functions, mutations included.
  const erased = await attempt('erasure', async () => {
    const rec = {
      requestId: 'req-1',
      userHashes: ['h1'],
      requestedMs: T0,
      completedMs: T0 + 1,
      actor: 'forget',
      removed: { redis: 3 },
    };
    await recordErasure(ch, DB, rec);
    await recordErasure(ch, DB, { ...rec, completedMs: T0 + 2, actor: 'run:recpipe:0' });
    const [audit] = await ch.query<{ removed: string }>(
      `SELECT removed FROM ${d}.${TABLES.erasures} FINAL WHERE request_id = 'req-1'`,
    );
    if (!audit || Object.keys(JSON.parse(audit.removed) as object).length !== 2)
      throw new Error(`the audit row does not hold both parties: ${JSON.stringify(audit)}`);
    const before = await count(TABLES.events);
    const r = await eraseClickHouseUser(ch, DB, ['12347'], 60_000);
    const removed = r.rows.reduce((a, t) => a + t.rows, 0);
    const after = await count(TABLES.events);
    if (removed === 0 || after >= before)
      throw new Error(`nothing was erased (${removed} rows counted, events ${before} -> ${after})`);
    return removed;
  });

  await ch.close();
  for (const f of failures) process.stderr.write(`chdb FAIL ${f}\n`);
  process.stdout.write(
    `clickhouse ${ch.version()} (chdb): ${statements.length} DDL statements, ${tables.length} insert ` +
      `formats (${tables.reduce((a, t) => a + t.lines.length, 0)} rows), ${reads.length} queries ` +
      `(${rowsReturned} rows), erasure of ${erased ?? 0} rows, ${failures.length} failures\n`,
  );
  return failures.length === 0 ? 0 : 1;
}

function queries(): { from: string; sql: string }[] {
  const cfg = loadConfig(undefined, {});
  return [
    ...docQueries().map((sql) => ({ from: 'docs/clickhouse-schema.md', sql })),
    { from: 'push_uplift view', sql: `SELECT * FROM ${d}.${TABLES.pushUplift}` },
    { from: 'push_uplift_total view', sql: `SELECT * FROM ${d}.${TABLES.pushUpliftTotal}` },
    { from: 'ranker trainer', sql: trainingQuery(DB, cfg.ranking.trainer) },
    { from: 'evaluate-policy', sql: loggedPushesSql(DB) },
  ];
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`clickhouse check failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
