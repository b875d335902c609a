/**
 * Load test of the streaming job on the local stack (`recpipe stack up`):
 *
 *   npx tsc -p tsconfig.json && node dist/bench/load.js [--rate 2000] [--minutes 10]
 *     [--sample-s 5] [--partitions 3] [--users 50000] [--items 20000] [--malformed 0.001]
 *     [--outage SERVICE:AT_S:FOR_S] [--probe-per-s 4] [--out FILE.json] [--keep]
 *
 * Starts a real `recpipe run` (own topic, group, database and key prefix), produces synthetic
 * clickstream events stamped with the wall clock at a fixed rate for the given time, and every
 * `--sample-s` seconds scrapes the job's /metrics and its RSS from /proc. Events carry ts = now,
 * so the job's end-to-end histogram is the true produce → all-stores-acknowledged latency.
 * After the run it lets the job drain the backlog, stops it with SIGTERM and writes every sample
 * plus a summary to `--out` (default bench/out/load-<rate>.json); bench/dashboard.py draws them.
 * `--outage redis:60:30` stops that service 60 s in for 30 s (to see a fault on the dashboard).
 * Freshness is also measured from outside (bench/freshness-probe.ts): `--probe-per-s` marker
 * events a second through an independent producer (kcat), their users' Redis lists polled by a
 * connection of the probe's own. The soak figures: RSS at minutes 5, 15 and 30, and the
 * event-loop lag (recpipe_event_loop_lag_seconds) p99.9 and maximum.
 * At the end it drops the run's topics, Redis keys and database (bench/drop-run.ts) unless
 * `--keep` is given. The last stdout line is the summary as JSON; progress goes to stderr.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import { isServiceName, type ServiceName } from '../stack/layout.js';
import { startService, stopService } from '../stack/stack.js';
import { ensureTopics } from '../kafka/admin.js';
import { createKafkaProducerSink, type OutgoingMessage } from '../kafka/client.js';
import { ShopStream } from '../pipeline/sim/shop-events.js';
import { dropRun } from './drop-run.js';
import { FreshnessProbe, type ProbeStats } from './freshness-probe.js';
import { buckets, parseMetrics, quantile, rssBytes, sum, type Series } from './load-metrics.js';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}

const rate = Number(arg('rate', '2000'));
const minutes = Number(arg('minutes', '10'));
const sampleS = Number(arg('sample-s', '5'));
const partitions = Number(arg('partitions', '3'));
const nUsers = Number(arg('users', '50000'));
const nItems = Number(arg('items', '20000'));
const malformedShare = Number(arg('malformed', '0.001'));
const outageArg = arg('outage', '');
const probePerS = Number(arg('probe-per-s', '4'));
const out = arg('out', join(ROOT, 'bench', 'out', `load-${rate}.json`));
if (!(rate > 0 && minutes > 0 && sampleS > 0)) {
  process.stderr.write(
    'usage: node dist/bench/load.js [--rate N] [--minutes M] (see the header)\n',
  );
  process.exit(2);
}

const say = (msg: string): void => void process.stderr.write(`[load] ${msg}\n`);

const run = `load${Date.now().toString(36)}`;
const env: Record<string, string> = {
  RECPIPE_KAFKA_INPUT_TOPIC: `${run}-clickstream`,
  RECPIPE_KAFKA_ITEMS_TOPIC: `${run}-items`,
  RECPIPE_KAFKA_DLQ_TOPIC: `${run}-dlq`,
  RECPIPE_KAFKA_PUSH_TOPIC: `${run}-push`,
  RECPIPE_KAFKA_GROUP_ID: `${run}-group`,
  RECPIPE_CLICKHOUSE_DATABASE: run,
  RECPIPE_REDIS_PREFIX: `${run}:`,
  RECPIPE_LOG_LEVEL: 'warn',
  RECPIPE_MONITORING_LAG_INTERVAL_MS: String(Math.min(5_000, sampleS * 1000)),
  RECPIPE_MONITORING_MODEL_METRICS_INTERVAL_MS: '30000',
};
const cfg = loadConfig(undefined, { ...process.env, ...env });

// ---------------------------------------------------------------- synthetic events
const shop = new ShopStream({
  users: nUsers,
  items: nItems,
  malformed: malformedShare,
  runId: run,
});
const event = (now: number): OutgoingMessage => shop.next(now);

// ---------------------------------------------------------------- the run
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Sample {
  t: number;
  produced: number;
  rssBytes: number;
  metrics: Series;
}

async function main(): Promise<void> {
  await ensureTopics(cfg, [{ name: cfg.kafka.inputTopic, partitions }]);
  const port = await freePort();
  const jobOutput = process.env.LOAD_JOB_OUTPUT
    ? openSync(process.env.LOAD_JOB_OUTPUT, 'w')
    : undefined;
  const job = spawn(
    process.execPath,
    [
      // e.g. LOAD_JOB_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the job itself
      ...(process.env.LOAD_JOB_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
      join(ROOT, 'bin', 'recpipe.js'),
      'run',
      '--http-port',
      String(port),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      // LOAD_JOB_OUTPUT=FILE keeps the job's stdout and log (e.g. --trace-gc lines) in a file
      stdio: ['ignore', jobOutput ?? 'ignore', jobOutput ?? 'pipe'],
    },
  );
  let jobLog = '';
  job.stderr?.on('data', (d: Buffer) => {
    jobLog = (jobLog + d.toString()).slice(-20_000);
  });
  let stopping = false;
  const exited = new Promise<number | null>((r) =>
    job.on('exit', (code, signal) => {
      if (!stopping) say(`the job exited (${code ?? signal}) during the run; its log:\n${jobLog}`);
      r(code);
    }),
  );
  const scrape = async (): Promise<Series> =>
    parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  for (let i = 0; ; i++) {
    if (job.exitCode !== null) throw new Error(`the job exited at start-up:\n${jobLog}`);
    if (
      await scrape().then(
        () => true,
        () => false,
      )
    )
      break;
    if (i > 300) throw new Error('the job did not serve /metrics within 60 s');
    await sleep(200);
  }
  say(
    `job pid ${job.pid} on :${port}; producing ${rate} events/s for ${minutes} min to ${cfg.kafka.inputTopic}`,
  );

  const producer = createKafkaProducerSink(cfg);
  await producer.connect();
  const probe = new FreshnessProbe(cfg, { itemCount: nItems });
  await probe.start();
  say(`freshness probe: markers through ${probe.client}, ${probePerS}/s`);
  let probeNext = Date.now();
  const samples: Sample[] = [];
  let produced = 0;
  const t0 = Date.now();
  const end = t0 + minutes * 60_000;

  const outage = outageArg ? parseOutage(outageArg) : undefined;
  let outageDone: Promise<void> | undefined;

  const sampler = setInterval(() => {
    scrape()
      .then((metrics) => {
        samples.push({
          t: (Date.now() - t0) / 1000,
          produced,
          rssBytes: rssBytes(job.pid as number),
          metrics,
        });
        const last = samples[samples.length - 1] as Sample;
        const p = probe.stats();
        say(
          `t=${last.t.toFixed(0)}s produced ${produced} valid ${sum(metrics, 'recpipe_events_valid_total')} ` +
            `lag ${sum(metrics, 'recpipe_consumer_lag')} rss ${(last.rssBytes / 2 ** 20).toFixed(0)} MiB ` +
            `probe p50 ${p.p50_ms} ms p99 ${p.p99_ms} ms (${p.seen})`,
        );
      })
      .catch((err: unknown) => say(`scrape failed: ${String(err)}`));
  }, sampleS * 1000);

  // Fixed-rate producer: every 20 ms, send what the schedule says is due (so a slow send is
  // caught up, not lost, and the offered rate is exactly `rate` on average).
  while (Date.now() < end) {
    const now = Date.now();
    if (outage && !outageDone && now - t0 >= outage.at * 1000) {
      outageDone = (async () => {
        say(`stopping ${outage.service} for ${outage.for} s`);
        await stopService(cfg, outage.service);
        await sleep(outage.for * 1000);
        await startService(cfg, outage.service);
        say(`${outage.service} started again`);
      })();
    }
    const due = Math.floor(((now - t0) / 1000) * rate) - produced;
    if (due > 0) {
      const batch: OutgoingMessage[] = new Array<OutgoingMessage>(due);
      for (let i = 0; i < due; i++) batch[i] = event(now);
      await producer.send(cfg.kafka.inputTopic, batch);
      produced += due;
    }
    // after the warm-up minute (or a quarter of a short run), like the steady-state figures
    const warm = now - t0 >= Math.min(60_000, (minutes * 60_000) / 4);
    if (probePerS > 0 && warm && now >= probeNext) {
      probeNext = now + 1000 / probePerS;
      await probe.mark();
    }
    await sleep(20);
  }
  const producedSeconds = (Date.now() - t0) / 1000;
  await producer.disconnect();
  const probeStats = await probe.finish();
  await outageDone;
  say(`produced ${produced} in ${producedSeconds.toFixed(0)} s; waiting for the job to drain`);

  // A job that has fallen far behind can be too busy to answer /metrics in time: the run still
  // ends with a summary, from the last sample that answered.
  const lastAnswered = (): Series => samples[samples.length - 1]?.metrics ?? {};
  const drainStart = Date.now();
  while (Date.now() - drainStart < 120_000) {
    const m = await scrape().catch(() => undefined);
    if (
      m &&
      sum(m, 'recpipe_messages_in_total') >= produced &&
      sum(m, 'recpipe_consumer_lag') === 0
    )
      break;
    await sleep(1_000);
  }
  await sleep(sampleS * 1000);
  clearInterval(sampler);
  const final = await scrape().catch((err: unknown) => {
    say(`final scrape failed (${String(err)}): the summary uses the last sample`);
    return lastAnswered();
  });
  const drainSeconds = (Date.now() - drainStart) / 1000;
  stopping = true;
  job.kill('SIGTERM');
  const code = await exited;

  const summary = summarize(
    samples,
    final,
    produced,
    producedSeconds,
    drainSeconds,
    code,
    probeStats,
  );
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ summary, samples }));
  say(`samples and summary written to ${out}`);
  if (!process.argv.includes('--keep')) {
    say(await dropRun(cfg, run).catch((err: unknown) => `clean-up failed: ${String(err)}`));
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

function parseOutage(spec: string): { service: ServiceName; at: number; for: number } {
  const [service, at, len] = spec.split(':');
  if (!service || !isServiceName(service) || !(Number(at) >= 0) || !(Number(len) > 0))
    throw new Error(`--outage SERVICE:AT_S:FOR_S, got ${spec}`);
  return { service, at: Number(at), for: Number(len) };
}

function summarize(
  samples: readonly Sample[],
  final: Series,
  produced: number,
  producedSeconds: number,
  drainSeconds: number,
  exitCode: number | null,
  probeStats: ProbeStats,
) {
  // The steady state: the first minute warms up (JIT, the model's first users), so skip it
  // when the run is long enough to have one.
  const from = samples.find((s) => s.t >= Math.min(60, producedSeconds / 4)) ?? samples[0];
  const to =
    [...samples].reverse().find((s) => s.t <= producedSeconds) ?? samples[samples.length - 1];
  const msgs = (s: Sample | undefined): number =>
    s ? sum(s.metrics, 'recpipe_messages_in_total') : 0;
  const sustained = from && to && to.t > from.t ? (msgs(to) - msgs(from)) / (to.t - from.t) : NaN;
  const windowP99: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const b = buckets(
      (samples[i] as Sample).metrics,
      'recpipe_end_to_end_latency_seconds',
      (samples[i - 1] as Sample).metrics,
    );
    const q = quantile(0.99, b);
    if (Number.isFinite(q)) windowP99.push(q);
  }
  const steady = samples.filter((s) => from && s.t >= from.t && s.t <= producedSeconds);
  const e2e = buckets(final, 'recpipe_end_to_end_latency_seconds');
  const lag = samples.map((s) => sum(s.metrics, 'recpipe_consumer_lag'));
  const rss = samples.map((s) => s.rssBytes);
  const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
  const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;
  return {
    rate_offered: rate,
    minutes,
    produced,
    produce_seconds: round(producedSeconds, 1),
    produced_per_s: round(produced / producedSeconds, 1),
    sustained_events_per_s: round(sustained, 1),
    valid: sum(final, 'recpipe_events_valid_total'),
    dead_letters: sum(final, 'recpipe_dead_letters_total'),
    lag_max: Math.max(...lag),
    lag_steady_max: Math.max(0, ...steady.map((s) => sum(s.metrics, 'recpipe_consumer_lag'))),
    lag_steady_mean: round(
      steady.reduce((n, s) => n + sum(s.metrics, 'recpipe_consumer_lag'), 0) /
        Math.max(1, steady.length),
      1,
    ),
    e2e_p50_s: round(quantile(0.5, e2e)),
    e2e_p99_s: round(quantile(0.99, e2e)),
    e2e_p99_window_max_s: round(Math.max(...windowP99)),
    processing_p99_s: round(quantile(0.99, buckets(final, 'recpipe_processing_latency_seconds'))),
    rss_mib_min: mib(Math.min(...rss)),
    rss_mib_max: mib(Math.max(...rss)),
    rss_mib_last: mib(rss[rss.length - 1] ?? 0),
    rss_mib_at_5min: mib(rssAt(samples, 300)),
    rss_mib_at_15min: mib(rssAt(samples, 900)),
    rss_mib_at_30min: mib(rssAt(samples, 1800)),
    loop_lag_p999_s: round(quantile(0.999, buckets(final, 'recpipe_event_loop_lag_seconds'))),
    loop_lag_max_s: round(
      Math.max(0, ...samples.map((s) => sum(s.metrics, 'recpipe_event_loop_lag_max_seconds'))),
    ),
    probe: probeStats,
    job_cpu_seconds: round(sum(final, 'recpipe_process_process_cpu_seconds_total'), 1),
    hr_at_10_window: round(sum(final, 'recpipe_model_hit_rate')),
    drain_seconds: round(drainSeconds, 1),
    job_exit_code: exitCode,
    outage: outageArg || null,
  };
}

/** RSS of the sample nearest to `t` seconds, or NaN when the run was shorter. */
function rssAt(samples: readonly Sample[], t: number): number {
  const last = samples[samples.length - 1];
  if (!last || last.t < t - 10) return NaN;
  let best = last;
  for (const s of samples) if (Math.abs(s.t - t) < Math.abs(best.t - t)) best = s;
  return best.rssBytes;
}

main().catch((err: unknown) => {
  process.stderr.write(`[load] ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
