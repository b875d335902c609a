/**
 * A real Prometheus scrapes a real `recpipe run` on the local stack while a short stream flows,
 * then every PromQL expression of the Grafana dashboards (deploy/grafana/dashboards) and of
 * docs/operations.md must return at least one sample, and every metric the docs' table names must
 * be known to Prometheus from the scrape. For scripts/ecosystem-check.sh; run from the repository
 * root after the build, with the stack up and `prometheus` on PATH:
 * `node dist/test/ecosystem/prometheus-check.js`. Exits 1 when anything is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolatedRun } from '../support/run-env.js';
import { syntheticStream } from '../support/synthetic-stream.js';

const BIN = join(process.cwd(), 'bin', 'recpipe.js');
const log = (msg: string): void => void process.stderr.write(`[prometheus-check] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every `expr` of every dashboard panel target, wherever the JSON nests it. */
export function dashboardExprs(dir: string): { from: string; expr: string }[] {
  const out: { from: string; expr: string }[] = [];
  const walk = (v: unknown, file: string): void => {
    if (Array.isArray(v)) for (const x of v) walk(x, file);
    else if (typeof v === 'object' && v !== null)
      for (const [k, x] of Object.entries(v)) {
        if (k === 'expr' && typeof x === 'string') out.push({ from: file, expr: x });
        else walk(x, file);
      }
  };
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')))
    walk(JSON.parse(readFileSync(join(dir, f), 'utf8')), f);
  return out;
}

/** The ```promql blocks of a Markdown page, one expression per non-comment line. */
export function markdownExprs(file: string): { from: string; expr: string }[] {
  const md = readFileSync(file, 'utf8');
  return [...md.matchAll(/```promql\n([\s\S]*?)```/g)].flatMap((m) =>
    (m[1] as string)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((expr) => ({ from: file, expr })),
  );
}

/** The metric names of the docs' metrics table (`recpipe_…` in its first column). */
export function documentedMetrics(file: string): string[] {
  const names = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const first = /^\| (.*?) \|/.exec(line)?.[1] ?? '';
    for (const m of first.matchAll(/`(recpipe_[a-z_]+)`/g)) names.add(m[1] as string);
  }
  return [...names];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

function start(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: 'pipe' });
  let tail = '';
  const keep = (d: Buffer) => void (tail = (tail + d.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal === null) log(`${cmd} ${args[0] ?? ''} exited ${code}:\n${tail}`);
  });
  return child;
}

const exited = (c: ChildProcess): Promise<void> =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => c.once('exit', () => r()));

interface PromResponse<T> {
  status: string;
  data: T;
  error?: string;
}

async function prom<T>(base: string, path: string): Promise<PromResponse<T>> {
  const res = await fetch(`${base}${path}`);
  return (await res.json()) as PromResponse<T>;
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const { name, env } = isolatedRun('eco', { RECPIPE_LOG_LEVEL: 'warn' });
  const exprs = [
    ...dashboardExprs('deploy/grafana/dashboards'),
    ...markdownExprs('docs/operations.md'),
  ];
  const documented = documentedMetrics('docs/operations.md');
  const dir = mkdtempSync(join(tmpdir(), 'recpipe-prom-'));

  // Event time ends now, so latencies are real; it spans more than the abandoned-cart delay so
  // push triggers fire; push reactions make the feedback counter count.
  const stream = syntheticStream({
    events: 3000,
    malformed: 40,
    duplicates: 60,
    seed: 17,
    users: 120,
    items: 150,
    startTs: Date.now() - 3000 * 1500,
    maxGapMs: 3000,
  });
  const reactions = ['push_open', 'push_click'].map((type, i) =>
    JSON.stringify({
      event_id: `eco-reaction-${i}`,
      ts: Date.now() - 1000,
      user_id: 'user-1',
      item_id: 'item-1',
      type,
      props: { push_id: 'eco-push', channel: 'push', trigger: 'abandoned_cart' },
    }),
  );
  const input = join(dir, 'events.jsonl');
  writeFileSync(input, `${[...stream.lines, ...reactions].join('\n')}\n`);

  const jobPort = await freePort();
  const promPort = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: recpipe',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${jobPort}']`,
      '',
    ].join('\n'),
  );
  const job = start(process.execPath, [BIN, 'run', '--http-port', String(jobPort)], env);
  const prometheus = start('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
    '--log.level=warn',
  ]);
  const base = `http://127.0.0.1:${promPort}`;
  try {
    // The producer's rate spreads the stream over ~15 s, so rates over 1m see it move.
    const producer = start(
      process.execPath,
      [BIN, 'produce', '--input', input, '--partitions', '3', '--rate', '200'],
      env,
    );
    await exited(producer);
    if (producer.exitCode !== 0) throw new Error(`produce failed (${producer.exitCode})`);
    log(
      `produced ${stream.lines.length + reactions.length} lines to ${name} (${Date.now() - t0} ms)`,
    );

    const missing = new Map<string, string>();
    const deadline = Date.now() + 90_000;
    for (;;) {
      missing.clear();
      for (const { from, expr } of exprs) {
        const r = await prom<{ result: unknown[] }>(
          base,
          `/api/v1/query?query=${encodeURIComponent(expr)}`,
        ).catch((err: Error) => ({ status: 'error', error: err.message, data: { result: [] } }));
        if (r.status !== 'success') missing.set(expr, `${from}: error ${r.error ?? ''}`);
        else if (r.data.result.length === 0) missing.set(expr, `${from}: no sample`);
      }
      const meta = await prom<Record<string, unknown>>(base, '/api/v1/metadata').catch(() => ({
        status: 'error',
        data: {} as Record<string, unknown>,
      }));
      const known = new Set(Object.keys(meta.data));
      for (const m of documented)
        if (!known.has(m)) missing.set(m, 'docs/operations.md table: not exposed by the job');
      if (missing.size === 0 || Date.now() > deadline) break;
      await sleep(2000);
    }
    for (const [expr, why] of missing) log(`MISSING ${why}: ${expr}`);
    const s = (Date.now() - t0) / 1000;
    process.stdout.write(
      `prometheus: ${exprs.length - [...missing.keys()].filter((k) => !documented.includes(k)).length}/${exprs.length} ` +
        `expressions with samples, ${documented.length - [...missing.keys()].filter((k) => documented.includes(k)).length}/${documented.length} ` +
        `documented metrics scraped, ${s.toFixed(0)} s\n`,
    );
    return missing.size === 0 ? 0 : 1;
  } finally {
    job.kill('SIGTERM');
    prometheus.kill('SIGTERM');
    await Promise.race([Promise.all([exited(job), exited(prometheus)]), sleep(20_000)]);
    if (job.exitCode === null) job.kill('SIGKILL');
    if (prometheus.exitCode === null) prometheus.kill('SIGKILL');
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
