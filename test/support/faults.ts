import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../config/schema.js';
import { stackDown, stackUp } from '../../stack/stack.js';
import { createClickHouseSink, type ClickHouseSink } from '../../sinks/clickhouse.js';
import { committedOffsets } from '../../kafka/admin.js';
import { ROOT, startJob, waitFor, type Job } from './cli.js';
import { isolatedRun, waitForCommittedToEnd, type IsolatedRun } from './run-env.js';
import type { SyntheticStream } from './synthetic-stream.js';

/**
 * Fault tests stop and restart real services. They do it on a stack of their own (own state dir
 * and ports), so a service they take down is never one another test file, or a colleague's
 * session on the same machine, is using. RECPIPE_FAULT_SHARED_STACK=1 runs them on the default
 * stack instead; any RECPIPE_* already in the environment wins over these. The ports are below
 * Linux's ephemeral range (32768+), where an outgoing connection can hold a port a restarting
 * service needs.
 */
const PRIVATE_STACK: Record<string, string> = {
  RECPIPE_STATE_DIR: join(ROOT, '.state', 'faults'),
  RECPIPE_KAFKA_BROKERS: '127.0.0.1:12092',
  RECPIPE_KAFKA_CONTROLLER_PORT: '12093',
  RECPIPE_REDIS_URL: 'redis://127.0.0.1:12379',
  RECPIPE_CLICKHOUSE_URL: 'http://127.0.0.1:12123',
  RECPIPE_CLICKHOUSE_NATIVE_PORT: '12000',
};

/** The outage length; the acceptance figure is 60 s, CI uses a shorter default. */
export const OUTAGE_S = Number(process.env.RECPIPE_FAULT_OUTAGE_S ?? '20');

export type FaultRun = IsolatedRun;

/** Unique topics, group, database and prefix for one test, on the fault stack. */
export function faultRun(
  label: string,
  extra: Record<string, string> = {},
  opts: { sharedStack?: boolean } = {},
): FaultRun {
  const stack =
    process.env.RECPIPE_FAULT_SHARED_STACK === '1' || opts.sharedStack
      ? {}
      : Object.fromEntries(
          Object.entries(PRIVATE_STACK).filter(([k]) => process.env[k] === undefined),
        );
  return isolatedRun(`f${label}`, {
    ...stack,
    RECPIPE_PIPELINE_BATCH_MAX_MESSAGES: '200',
    RECPIPE_MONITORING_LAG_INTERVAL_MS: '1000',
    ...extra,
  });
}

const quiet = (): undefined => undefined;

export async function upStack(cfg: Config): Promise<void> {
  await stackUp(cfg, quiet);
}

/** Stops the private stack after a file's tests; the shared one is left as found. */
export async function downStack(cfg: Config): Promise<void> {
  if (process.env.RECPIPE_FAULT_SHARED_STACK === '1') return;
  if (cfg.stateDir !== PRIVATE_STACK.RECPIPE_STATE_DIR) return;
  await stackDown(cfg, quiet);
}

export function writeStream(lines: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'recpipe-faults-'));
  const file = join(dir, 'events.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Resident set size of a process in bytes, from /proc (the kernel's own figure). */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface RssSampler {
  stop(): { samples: number; max: number; min: number; first: number; last: number };
}

export function sampleRss(pid: number, everyMs = 250): RssSampler {
  const values: number[] = [];
  const take = (): void => {
    const v = rssBytes(pid);
    if (v !== undefined) values.push(v);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return {
        samples: values.length,
        max: Math.max(...values),
        min: Math.min(...values),
        first: values[0] ?? 0,
        last: values[values.length - 1] ?? 0,
      };
    },
  };
}

/** A started `recpipe run` with its HTTP port read from its log. */
export interface RunningJob extends Job {
  readonly port: number;
  healthz(): Promise<{ status: number; checks: Record<string, boolean> }>;
  metric(name: string): Promise<number>;
}

export async function startFaultJob(run: FaultRun): Promise<RunningJob> {
  // Chosen up front, so the test knows where /metrics is without parsing the job's logs.
  const port = await freePort();
  const job = startJob(['--http-port', String(port)], run.env);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    'the job to serve /healthz',
    async () => {
      if (job.child.exitCode !== null) throw new Error(`job exited:\n${job.logs().slice(-3000)}`);
      const r = await fetch(`${base}/healthz`).catch(() => undefined);
      return r !== undefined;
    },
    60_000,
  );
  return {
    ...job,
    port,
    async healthz() {
      const r = await fetch(`${base}/healthz`);
      const body = (await r.json()) as { checks?: Record<string, boolean> };
      return { status: r.status, checks: body.checks ?? {} };
    },
    async metric(name) {
      const text = await (await fetch(`${base}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (line.startsWith(`${name} `) || line.startsWith(`${name}{`))
          sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    },
  };
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface Stores {
  readonly ch: ClickHouseSink;
  events(): Promise<number>;
  eventIds(): Promise<Set<string>>;
  deadLetters(): Promise<{ offset: string; partition: number }[]>;
  close(): Promise<void>;
}

export function stores(run: FaultRun): Stores {
  const ch = createClickHouseSink(run.cfg);
  return {
    ch,
    async events() {
      const rows = await ch.query<{ n: string }>(
        `SELECT count() AS n FROM ${run.name}.events FINAL`,
      );
      return Number(rows[0]?.n ?? 0);
    },
    async eventIds() {
      const rows = await ch.query<{ event_id: string }>(
        `SELECT event_id FROM ${run.name}.events FINAL`,
      );
      return new Set(rows.map((r) => r.event_id));
    },
    deadLetters: () =>
      ch.query<{ offset: string; partition: number }>(
        `SELECT toString(offset) AS offset, partition FROM ${run.name}.dead_letters FINAL`,
      ),
    close: () => ch.close(),
  };
}

/** The group's committed offsets summed over the input topic's partitions. */
export async function committedTotal(run: FaultRun): Promise<number> {
  const c = await committedOffsets(run.cfg, run.cfg.kafka.groupId, run.cfg.kafka.inputTopic);
  return c.reduce((s, p) => s + Math.max(0, p.offset), 0);
}

/** Every valid event exactly once and every malformed line exactly once, in ClickHouse. */
export async function expectExactlyOnce(
  s: Stores,
  stream: Pick<SyntheticStream, 'validIds' | 'malformedLines'>,
): Promise<{ events: number; deadLetters: number }> {
  const ids = await s.eventIds();
  const dead = await s.deadLetters();
  const sources = new Set(dead.map((d) => `${d.partition}/${d.offset}`));
  const missing = [...stream.validIds].filter((id) => !ids.has(id));
  if (ids.size !== stream.validIds.size || missing.length > 0)
    throw new Error(
      `events: ${ids.size} distinct in ClickHouse, expected ${stream.validIds.size}; missing e.g. ${missing.slice(0, 5).join(', ')}`,
    );
  if (dead.length !== stream.malformedLines.length || sources.size !== dead.length)
    throw new Error(
      `dead letters: ${dead.length} rows (${sources.size} distinct sources), expected ${stream.malformedLines.length}`,
    );
  return { events: ids.size, deadLetters: dead.length };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface OutageReport {
  outageSeconds: number;
  /** Committed offsets (summed) a few seconds into the outage and just before it ended. */
  committedEarly: number;
  committedLate: number;
  /** Lag the job itself reported just before the service came back. */
  lagAtEnd: number;
  rss: ReturnType<RssSampler['stop']>;
  rssBefore: number;
  healthDuring: { status: number; checks: Record<string, boolean> };
  healthAfter: { status: number; checks: Record<string, boolean> };
  recoverySeconds: number;
}

/**
 * Takes `service` down for `seconds` (from the moment it has stopped to the moment it is asked to
 * start) while the job runs; `during` starts a producer as soon as it is down, so new data keeps
 * arriving. Then brings it back and waits until the group has committed everything.
 */
export async function outage(
  run: FaultRun,
  job: RunningJob,
  service: 'redis' | 'clickhouse',
  during: () => Promise<unknown>,
  seconds = OUTAGE_S,
): Promise<OutageReport> {
  const { startService, stopService } = await import('../../stack/stack.js');
  const pid = job.child.pid as number;
  const rssBefore = rssBytes(pid) ?? 0;
  await stopService(run.cfg, service);
  const t0 = Date.now();
  const producerDone = during();
  const rss = sampleRss(pid);
  // In-flight batches that already passed the store may still commit; after that, nothing may.
  await sleep(Math.min(4_000, (seconds * 1000) / 3));
  const committedEarly = await committedTotal(run);
  const healthDuring = await job.healthz();
  await sleep(Math.max(0, t0 + seconds * 1000 - Date.now() - 1_000));
  const committedLate = await committedTotal(run);
  const lagAtEnd = await job.metric('recpipe_consumer_lag');
  const stats = rss.stop();
  await sleep(Math.max(0, t0 + seconds * 1000 - Date.now()));
  await startService(run.cfg, service);
  const outageSeconds = (Date.now() - t0) / 1000;
  const t1 = Date.now();
  await producerDone;
  await waitForCommittedToEnd(run.cfg, 120_000);
  const recoverySeconds = (Date.now() - t1) / 1000;
  const healthAfter = await waitFor(
    '/healthz to turn green again',
    async () => {
      const h = await job.healthz();
      return h.status === 200 ? h : undefined;
    },
    30_000,
    500,
  );
  return {
    outageSeconds,
    committedEarly,
    committedLate,
    lagAtEnd,
    rss: stats,
    rssBefore,
    healthDuring,
    healthAfter,
    recoverySeconds,
  };
}
