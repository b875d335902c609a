import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, sep } from 'node:path';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface DetachedLaunch {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** stdout and stderr are appended here: the process must not hold a pipe to a CLI that is about to exit. */
  readonly stdoutFile: string;
  readonly pidFile: string;
}

/**
 * Starts a long-lived service that outlives the caller: its own process group (so a Ctrl-C aimed at
 * the CLI does not reach it), no pipes back to us, and unref'd so our event loop can end.
 */
export async function spawnDetached(launch: DetachedLaunch): Promise<number> {
  mkdirSync(dirname(launch.stdoutFile), { recursive: true });
  mkdirSync(dirname(launch.pidFile), { recursive: true });
  const fd = openSync(launch.stdoutFile, 'a');
  try {
    const child = spawn(launch.command, [...launch.args], {
      cwd: launch.cwd,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    const pid = await new Promise<number>((resolvePid, reject) => {
      child.once('error', (err) =>
        reject(new Error(`cannot start ${launch.command}: ${err.message}`)),
      );
      child.once('spawn', () =>
        child.pid ? resolvePid(child.pid) : reject(new Error(`${launch.command}: no pid`)),
      );
    });
    child.unref();
    writeFileSync(launch.pidFile, `${pid}\n`);
    return pid;
  } finally {
    closeSync(fd);
  }
}

export function readPidFile(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

export function removePidFile(pidFile: string): void {
  rmSync(pidFile, { force: true });
}

/** Zombies count as dead: a stopped child of this very process lingers as one until it is reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    // No /proc (macOS): the signal probe is all we have.
    return true;
  }
}

/**
 * Pid files outlive reboots and pids get reused; before trusting or signalling a pid we check that the
 * process is still one of ours: its command line mentions a path only our launch uses, or (for
 * servers that rewrite their process title, like Redis) its working directory is inside the
 * service's state directory, where we started it.
 */
export function isOurProcess(pid: number, marker: string, serviceDir: string): boolean {
  if (!isAlive(pid)) return false;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    // No /proc (macOS): the signal probe is all we have.
    return true;
  }
  if (cmdline.includes(marker)) return true;
  try {
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    const dir = realpathSync(serviceDir);
    return cwd === dir || cwd.startsWith(dir + sep);
  } catch {
    return false;
  }
}

/**
 * SIGTERM first so services flush (Redis AOF, Kafka controlled shutdown); SIGKILL if they hang.
 * A grace of 0 skips straight to SIGKILL, which is how tests simulate a crash.
 */
export async function stopProcess(pid: number, graceMs: number): Promise<'exited' | 'killed'> {
  const signalAll = (sig: NodeJS.Signals): void => {
    // The service leads its own group (spawnDetached); signalling the group also reaches helpers it forked.
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  if (graceMs > 0) {
    signalAll('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      if (!isAlive(pid)) return 'exited';
      await sleep(100);
    }
  }
  signalAll('SIGKILL');
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  if (isAlive(pid)) throw new Error(`pid ${pid} survived SIGKILL`);
  return 'killed';
}

export class ReadinessError extends Error {
  override readonly name = 'ReadinessError';
}

/**
 * Polls `check` until it holds. `failFast` lets the caller bail out early with its own message, e.g.
 * when the process already died and waiting the full timeout would only hide the cause.
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  opts: {
    timeoutMs: number;
    intervalMs?: number;
    failFast?: () => string | undefined;
    describe: string;
  },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 200;
  for (;;) {
    const fatal = opts.failFast?.();
    if (fatal) throw new ReadinessError(fatal);
    if (await check().catch(() => false)) return;
    if (Date.now() >= deadline) {
      throw new ReadinessError(
        `${opts.describe}: not ready after ${Math.round(opts.timeoutMs / 1000)} s`,
      );
    }
    await sleep(interval);
  }
}

/** The end of a log file, for error messages that should show the cause without opening the file. */
export function tailFile(path: string, lines = 15, maxBytes = 16 * 1024): string {
  if (!existsSync(path)) return '';
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8').split('\n').filter(Boolean).slice(-lines).join('\n');
  } finally {
    closeSync(fd);
  }
}

export function fileSize(path: string): number {
  try {
    const fd = openSync(path, 'r');
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
}

/** Reads what a log gained since `offset`, so markers from an earlier run are not mistaken for this one. */
export function readFrom(path: string, offset: number): string {
  if (!existsSync(path)) return '';
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size <= offset) return '';
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Absolute path of an executable, or undefined. Asks the shell (`command -v`) so PATH handling is the
 * system's own; sbin directories are added because clickhouse-server lives there and non-root PATHs
 * often omit them.
 */
export function findExecutable(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' });
  const found = r.status === 0 ? r.stdout.trim() : '';
  if (found.startsWith('/')) return found;
  for (const dir of ['/usr/sbin', '/usr/local/sbin', '/sbin']) {
    const p = `${dir}/${name}`;
    if (existsSync(p)) return p;
  }
  return undefined;
}
