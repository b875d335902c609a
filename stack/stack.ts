import type { Config } from '../config/schema.js';
import { redactUrlCredentials } from '../sinks/security.js';
import { formatHostPort, stackEndpoints, type StackEndpoints } from './address.js';
import { clickhouseService } from './clickhouse.js';
import { kafkaService } from './kafka.js';
import { SERVICE_NAMES, type ServiceName } from './layout.js';
import { withStackLock } from './lock.js';
import {
  fileSize,
  isAlive,
  isOurProcess,
  readPidFile,
  removePidFile,
  sleep,
  ReadinessError,
  readFrom,
  spawnDetached,
  stopProcess,
  tailFile,
  waitUntil,
} from './process.js';
import { tcpOpen } from './probe.js';
import { redisService } from './redis.js';
import type { Log, ServiceFactory, ServiceSpec } from './service.js';
import { ensureBinaries } from './system-deps.js';

export type { StackEndpoints } from './address.js';
export type { ServiceName } from './layout.js';

const FACTORIES: Record<ServiceName, ServiceFactory> = {
  kafka: kafkaService,
  redis: redisService,
  clickhouse: clickhouseService,
};

const quiet: Log = () => undefined;

export type RunningMap = Record<ServiceName, boolean>;

export interface StackStatus {
  endpoints: StackEndpoints;
  running: RunningMap;
  /** Pids of the processes `up` started and that are still alive, answering or not. */
  pids: Partial<Record<ServiceName, number>>;
}

interface ServiceState {
  pid: number | undefined;
  running: boolean;
}

/** Running = the process we started is alive AND answers its own protocol on its port. */
async function serviceState(s: ServiceSpec): Promise<ServiceState> {
  const pid = readPidFile(s.layout.pidFile);
  if (pid === undefined || !isOurProcess(pid, s.marker, s.layout.dir))
    return { pid: undefined, running: false };
  return { pid, running: await s.answers() };
}

/** Offsets into the logs at launch, so an error shows this start's output and not an older run's. */
interface LogMarks {
  main: number;
  stdout: number;
}

function lastLines(text: string, n = 20): string {
  return text.split('\n').filter(Boolean).slice(-n).join('\n');
}

function failure(s: ServiceSpec, what: string, marks: LogMarks): Error {
  const fresh =
    lastLines(readFrom(s.mainLog, marks.main)) ||
    lastLines(readFrom(s.layout.stdoutFile, marks.stdout));
  const tail = fresh || tailFile(s.mainLog);
  return new Error(
    `${s.name}: ${what}; see ${s.mainLog} (process output: ${s.layout.stdoutFile})` +
      (tail ? `\n${tail}` : ''),
  );
}

async function startOne(s: ServiceSpec, log: Log): Promise<void> {
  const state = await serviceState(s);
  if (state.running) {
    log(`${s.name}: already running (pid ${state.pid})`);
    return;
  }
  if (state.pid !== undefined) {
    // Ours and alive but not answering: an earlier start still warming up, or a wedged process.
    log(`${s.name}: pid ${state.pid} is alive but not answering yet; waiting`);
    await waitForReady(s, state.pid, {
      main: fileSize(s.mainLog),
      stdout: fileSize(s.layout.stdoutFile),
    });
    return;
  }
  removePidFile(s.layout.pidFile);
  // Grace for a listener of ours that is still closing (see portsReleased) before calling it foreign.
  await portsReleased(s, 3_000);
  for (const hp of s.ports) {
    if (await tcpOpen(hp)) {
      throw new Error(
        `${s.name}: ${formatHostPort(hp)} is already taken by a process recpipe did not start; ` +
          `stop it or point the config at another port`,
      );
    }
  }
  const started = Date.now();
  const launch = await s.prepare(log);
  const marks: LogMarks = { main: fileSize(s.mainLog), stdout: fileSize(s.layout.stdoutFile) };
  const pid = await spawnDetached({
    command: launch.command,
    args: launch.args,
    cwd: s.layout.dir,
    stdoutFile: s.layout.stdoutFile,
    pidFile: s.layout.pidFile,
  });
  log(`${s.name}: started pid ${pid}, waiting until it answers`);
  try {
    await waitForReady(s, pid, marks);
  } catch (err) {
    // Leave nothing half-started behind: the next `up` should start from a clean slate.
    if (isAlive(pid)) await stopProcess(pid, 5_000).catch(() => undefined);
    removePidFile(s.layout.pidFile);
    throw err;
  }
  log(`${s.name}: ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function waitForReady(s: ServiceSpec, pid: number, marks: LogMarks): Promise<void> {
  try {
    await waitUntil(() => s.ready(marks.main), {
      timeoutMs: s.readyTimeoutMs,
      intervalMs: 250,
      describe: s.name,
      failFast: () => (isAlive(pid) ? undefined : `exited during start-up`),
    });
  } catch (err) {
    if (err instanceof ReadinessError) {
      const what = err.message.startsWith('exited')
        ? err.message
        : `not answering after ${s.readyTimeoutMs / 1000} s`;
      throw failure(s, what, marks);
    }
    throw err;
  }
}

/**
 * A killed multi-threaded process (the JVM) is reported dead while its other threads still hold
 * the listening sockets for a moment; an immediate restart would then find its own port taken.
 */
async function portsReleased(s: ServiceSpec, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await Promise.all(s.ports.map((hp) => tcpOpen(hp, 500)));
    if (!open.some(Boolean)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

async function stopOne(s: ServiceSpec, log: Log): Promise<void> {
  const pid = readPidFile(s.layout.pidFile);
  if (pid === undefined) {
    log(`${s.name}: not running`);
    return;
  }
  if (!isOurProcess(pid, s.marker, s.layout.dir)) {
    // The pid is dead or now belongs to an unrelated process; never signal it.
    removePidFile(s.layout.pidFile);
    log(`${s.name}: not running (removed stale pid file)`);
    return;
  }
  const how = await stopProcess(pid, s.stopGraceMs);
  removePidFile(s.layout.pidFile);
  await portsReleased(s, 5_000);
  log(
    how === 'exited'
      ? `${s.name}: stopped (pid ${pid})`
      : `${s.name}: killed after ${s.stopGraceMs / 1000} s (pid ${pid})`,
  );
}

function specs(cfg: Config, names: readonly ServiceName[] = SERVICE_NAMES): ServiceSpec[] {
  return names.map((n) => FACTORIES[n](cfg));
}

/** Runs per-service work concurrently and reports every failure, not just the first. */
async function forEach(list: ServiceSpec[], fn: (s: ServiceSpec) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(list.map(fn));
  const errors = results.flatMap((r) =>
    r.status === 'rejected' ? [(r.reason as Error).message] : [],
  );
  if (errors.length > 0) throw new Error(errors.join('\n\n'));
}

async function startServices(cfg: Config, names: readonly ServiceName[], log: Log): Promise<void> {
  const list = specs(cfg, names);
  const states = await Promise.all(list.map(serviceState));
  const toStart = list.filter((_, i) => !states[i]!.running);
  if (toStart.length === 0) return;
  await ensureBinaries(
    toStart.flatMap((s) => s.requiredBinaries()),
    log,
  );
  await forEach(toStart, (s) => startOne(s, log));
}

export async function stackUp(cfg: Config, log: (msg: string) => void): Promise<StackEndpoints> {
  const endpoints = stackEndpoints(cfg);
  await withStackLock(cfg, log, async () => {
    const before = await stackStatus(cfg);
    if (Object.values(before.running).every(Boolean)) {
      log('stack: already up');
      return;
    }
    await startServices(cfg, SERVICE_NAMES, log);
  });
  // human-readable: passwords masked (`stack status --json` keeps full URLs for tools)
  log(
    `stack: up — kafka ${endpoints.kafka}, redis ${redactUrlCredentials(endpoints.redis)}, clickhouse ${redactUrlCredentials(endpoints.clickhouse)}`,
  );
  return endpoints;
}

export async function stackDown(cfg: Config, log: (msg: string) => void): Promise<void> {
  await withStackLock(cfg, log, () => forEach(specs(cfg), (s) => stopOne(s, log)));
}

export async function stackStatus(cfg: Config): Promise<StackStatus> {
  const endpoints = stackEndpoints(cfg);
  const list = specs(cfg);
  const states = await Promise.all(list.map(serviceState));
  const running: RunningMap = { kafka: false, redis: false, clickhouse: false };
  const pids: Partial<Record<ServiceName, number>> = {};
  list.forEach((s, i) => {
    running[s.name] = states[i]!.running;
    if (states[i]!.pid !== undefined) pids[s.name] = states[i]!.pid;
  });
  return { endpoints, running, pids };
}

/** Fault injection: start one service (no-op when it is already running). */
export async function startService(
  cfg: Config,
  name: ServiceName,
  log: Log = quiet,
): Promise<void> {
  await withStackLock(cfg, log, () => startServices(cfg, [name], log));
}

/** Fault injection: stop one service the stack started (SIGTERM, then SIGKILL after its grace period). */
export async function stopService(cfg: Config, name: ServiceName, log: Log = quiet): Promise<void> {
  await withStackLock(cfg, log, () => stopOne(FACTORIES[name](cfg), log));
}

/** Fault injection: hard-kill one service (SIGKILL, no flush), as a crash would. */
export async function killService(cfg: Config, name: ServiceName, log: Log = quiet): Promise<void> {
  await withStackLock(cfg, log, async () => {
    const s = FACTORIES[name](cfg);
    const pid = readPidFile(s.layout.pidFile);
    if (pid === undefined || !isOurProcess(pid, s.marker, s.layout.dir)) return;
    await stopProcess(pid, 0);
    removePidFile(s.layout.pidFile);
    await portsReleased(s, 5_000);
    log(`${name}: killed (pid ${pid})`);
  });
}
