/**
 * Backlog drain of the streaming job against the in-process graph, on the same file:
 *
 *   node dist/bench/drain.js [--input FILE.jsonl] [--events 200000] [--partitions 6]
 *     [--instances 1] [--skip-replay] [--out FILE.json] [--keep]
 *
 * 1. `recpipe replay --input FILE --json` (unless --skip-replay): events/s and peak RSS;
 * 2. `recpipe produce` of FILE into a fresh topic (own group, database, Redis prefix), finished
 *    before any job starts, so what follows is a pure backlog drain;
 * 3. N `recpipe run` processes of one group; once every instance owns partitions (the group has
 *    formed) each process's CPU seconds are read from /proc, and the clock starts at the first
 *    event stored (the first commit, `recpipe_events_valid_total` > 0);
 * 4. polls the group's committed offsets from the broker until they reach the end of the topic,
 *    then reads CPU seconds and peak RSS (VmHWM) again and SIGTERMs the instances.
 * Without --input it writes the load test's shop stream (pipeline/sim/shop-events.ts) to
 * bench/out/shop-<events>.jsonl first. Progress goes to stderr; the last stdout line is the
 * summary as JSON. The run's topics, Redis keys and ClickHouse database are dropped at the end
 * unless --keep (bench/drop-run.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import { committedOffsets, endOffsets } from '../kafka/admin.js';
import { dropRun } from './drop-run.js';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const BIN = join(ROOT, 'bin', 'recpipe.js');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const say = (msg: string): void => void process.stderr.write(`[drain] ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const events = Number(arg('events', '200000'));
const partitions = Number(arg('partitions', '6'));
const instances = Number(arg('instances', '1'));
const input = arg('input', join(ROOT, 'bench', 'out', `shop-${events}.jsonl`));
const out = arg('out', join(ROOT, 'bench', 'out', `drain-${instances}.json`));

const run = `drain${Date.now().toString(36)}`;
const env: Record<string, string> = {
  RECPIPE_KAFKA_INPUT_TOPIC: `${run}-clickstream`,
  RECPIPE_KAFKA_ITEMS_TOPIC: `${run}-items`,
  RECPIPE_KAFKA_DLQ_TOPIC: `${run}-dlq`,
  RECPIPE_KAFKA_PUSH_TOPIC: `${run}-push`,
  RECPIPE_KAFKA_GROUP_ID: `${run}-group`,
  RECPIPE_KAFKA_PARTITIONS: String(partitions),
  RECPIPE_CLICKHOUSE_DATABASE: run,
  RECPIPE_REDIS_PREFIX: `${run}:`,
  RECPIPE_LOG_LEVEL: 'info',
};
const cfg = loadConfig(undefined, { ...process.env, ...env });

function procStat(pid: number): { cpuSeconds: number; peakRssMib: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const hwm = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuSeconds: ticks / 100, peakRssMib: hwm ? Number(hwm[1]) / 1024 : 0 };
  } catch {
    return { cpuSeconds: NaN, peakRssMib: NaN };
  }
}

function lastJson(text: string): Record<string, unknown> {
  const line = text.trim().split('\n').pop() ?? '{}';
  return JSON.parse(line) as Record<string, unknown>;
}

async function committedSoFar(): Promise<{ total: number; committed: number }> {
  const ends = await endOffsets(cfg, cfg.kafka.inputTopic);
  const done = await committedOffsets(cfg, cfg.kafka.groupId, cfg.kafka.inputTopic);
  let total = 0;
  let committed = 0;
  for (const e of ends) {
    total += e.high - e.low;
    const c = done.find((x) => x.partition === e.partition)?.offset ?? -1;
    committed += Math.max(0, Math.min(c, e.high) - e.low);
  }
  return { total, committed };
}

interface Instance {
  readonly proc: ChildProcess;
  log: string;
  port: number | undefined;
  owns: boolean;
}

function startInstance(i: number): Instance {
  const nodeArgs = (process.env.DRAIN_JOB_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // DRAIN_JOB_STDOUT=PREFIX keeps instance i's stdout (e.g. --trace-gc lines) in PREFIX-i.log
  const stdout = process.env.DRAIN_JOB_STDOUT
    ? openSync(`${process.env.DRAIN_JOB_STDOUT}-${i}.log`, 'w')
    : 'ignore';
  const proc = spawn(process.execPath, [...nodeArgs, BIN, 'run', '--http-port', '0'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...env,
      RECPIPE_KAFKA_INSTANCE_ID: `${run}-${i}`,
    },
    stdio: ['ignore', stdout, 'pipe'],
  });
  // the child has its own copy of the file descriptor
  if (typeof stdout === 'number') closeSync(stdout);
  const inst: Instance = { proc, log: '', port: undefined, owns: false };
  proc.stderr?.on('data', (d: Buffer) => {
    const text = d.toString();
    inst.log = (inst.log + text).slice(-50_000);
    for (const line of text.split('\n')) {
      const http = /"http":"[^"]*:(\d+)"/.exec(line);
      if (http) inst.port = Number(http[1]);
      if (line.includes('"partitions assigned"')) inst.owns = !line.includes('"partitions":[]');
      if (line.includes('"partitions revoked"')) inst.owns = false;
    }
  });
  return inst;
}

async function metric(inst: Instance, name: string): Promise<number> {
  if (inst.port === undefined) return 0;
  try {
    const text = await (await fetch(`http://127.0.0.1:${inst.port}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n'))
      if (line.startsWith(`${name} `) || line.startsWith(`${name}{`))
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    return sum;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  mkdirSync(dirname(out), { recursive: true });
  if (!existsSync(input)) {
    say(`writing ${events} shop events to ${input}`);
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'dist', 'bench', 'shop-stream.js'), '--events', String(events), '--out', input],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (r.status !== 0) throw new Error('shop-stream failed');
  }

  let replay: Record<string, unknown> | undefined;
  if (!flag('skip-replay')) {
    say(`replay of ${input}`);
    const r = spawnSync(process.execPath, [BIN, 'replay', '--input', input, '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    replay = lastJson(r.stdout);
    say(
      `replay: ${String(replay.events_per_s)} events/s, peak RSS ${String(replay.peak_rss_mb)} MiB`,
    );
  }

  say(`producing ${input} into ${cfg.kafka.inputTopic} (${partitions} partitions)`);
  const produced = spawnSync(
    process.execPath,
    [BIN, 'produce', '--input', input, '--partitions', String(partitions), '--json'],
    { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (produced.status !== 0) throw new Error(`produce failed: ${produced.stderr}`);
  const { total } = await committedSoFar();
  say(`${total} messages in the topic; starting ${instances} instance(s)`);

  const launched = Date.now();
  const insts = Array.from({ length: instances }, (_, i) => startInstance(i));
  const stopAll = async (): Promise<(number | null)[]> => {
    for (const inst of insts) inst.proc.kill('SIGTERM');
    return Promise.all(
      insts.map(
        (inst) =>
          new Promise<number | null>((resolve) => {
            if (inst.proc.exitCode !== null) resolve(inst.proc.exitCode);
            else inst.proc.on('exit', (code) => resolve(code));
          }),
      ),
    );
  };
  try {
    while (!insts.every((i) => i.owns)) {
      for (const inst of insts)
        if (inst.proc.exitCode !== null) throw new Error(`an instance exited:\n${inst.log}`);
      if (Date.now() - launched > 120_000) throw new Error('the group did not form in 120 s');
      await sleep(20);
    }
    const formed = Date.now();
    const cpu0 = insts.map((i) => procStat(i.proc.pid as number).cpuSeconds);
    say(`group formed after ${((formed - launched) / 1000).toFixed(1)} s`);

    let firstStored = 0;
    let lastLog = 0;
    for (;;) {
      if (firstStored === 0) {
        const valid = (
          await Promise.all(insts.map((i) => metric(i, 'recpipe_events_valid_total')))
        ).reduce((a, b) => a + b, 0);
        if (valid > 0) firstStored = Date.now();
      }
      const { committed } = await committedSoFar();
      if (committed >= total) break;
      if (Date.now() - lastLog > 5_000) {
        lastLog = Date.now();
        const rss = insts.map((i) => procStat(i.proc.pid as number).peakRssMib.toFixed(0));
        say(`committed ${committed} / ${total}, peak RSS ${rss.join(' / ')} MiB`);
      }
      if (Date.now() - formed > 1_800_000) throw new Error('not drained within 30 min');
      await sleep(100);
    }
    const done = Date.now();
    const stats = insts.map((i) => procStat(i.proc.pid as number));
    const cpu = stats.map((s, k) => Math.round((s.cpuSeconds - (cpu0[k] as number)) * 10) / 10);
    const seconds = (done - firstStored) / 1000;
    const codes = await stopAll();
    const peak = Math.max(...stats.map((s) => s.peakRssMib));
    const summary = {
      input,
      messages: total,
      instances,
      partitions,
      startup_and_join_seconds: Math.round((formed - launched) / 100) / 10,
      drain_seconds: Math.round(seconds * 100) / 100,
      run_events_per_s: Math.round(total / seconds),
      cpu_seconds: cpu,
      cpu_seconds_total: Math.round(cpu.reduce((a, b) => a + b, 0) * 10) / 10,
      run_peak_rss_mib: Math.round(peak),
      exit_codes: codes,
      ...(replay && {
        replay_events_per_s: replay.events_per_s,
        replay_peak_rss_mib: replay.peak_rss_mb,
        drain_ratio: Math.round((total / seconds / Number(replay.events_per_s)) * 100) / 100,
        rss_ratio: Math.round((peak / Number(replay.peak_rss_mb)) * 100) / 100,
      }),
    };
    writeFileSync(out, JSON.stringify(summary));
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } catch (err) {
    await stopAll();
    throw err;
  } finally {
    // A drain leaves ~100k served lists (TTL of days) behind: the next run would compete with them.
    if (!flag('keep'))
      say(await dropRun(cfg, run).catch((e: unknown) => `clean-up failed: ${String(e)}`));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[drain] ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
