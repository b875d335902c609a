import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli.js';

/** N `recpipe run` processes of one group, started by scripts/run-instances.sh as users do. */
export interface Instances {
  readonly n: number;
  readonly script: ChildProcess;
  /** The script's exit status (the worst of its instances). */
  readonly exited: Promise<number | null>;
  /** The script's own output: one "instance i exited with S" line per instance at the end. */
  output(): string;
  log(i: number): string;
  pid(i: number): number;
  /** The HTTP port instance i logged (undefined until it is serving). */
  port(i: number): number | undefined;
  /** Input partitions instance i owns now, replayed from its assign/revoke log lines. */
  assignment(i: number): number[];
  /** SIGTERM to the script, which forwards one SIGTERM to every instance still running. */
  stop(): Promise<number | null>;
}

export function startInstances(
  n: number,
  args: string[],
  env: Record<string, string>,
  idPrefix = '',
): Instances {
  const dir = mkdtempSync(join(tmpdir(), 'recpipe-instances-'));
  const script = spawn('bash', [join(ROOT, 'scripts', 'run-instances.sh'), String(n), ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...env,
      RECPIPE_INSTANCES_DIR: dir,
      RECPIPE_INSTANCES_BASE_PORT: '0',
      RECPIPE_INSTANCES_ID_PREFIX: idPrefix,
    },
  });
  let out = '';
  script.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  script.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  // 'close', not 'exit': at 'exit' the last lines of stderr ("instance i exited with 0") may
  // still be in the pipe, and a check of output() right after stop() missed them once.
  const exited = new Promise<number | null>((resolve) =>
    script.on('close', (code) => resolve(code)),
  );
  const pids = new Map<number, number>();
  const log = (i: number): string => {
    const f = join(dir, `instance-${i}.log`);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  };
  const lines = (i: number): Record<string, unknown>[] =>
    log(i)
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  return {
    n,
    script,
    exited,
    output: () => out,
    log,
    pid: (i) => {
      let pid = pids.get(i);
      if (pid === undefined) {
        pid = Number(readFileSync(join(dir, `instance-${i}.pid`), 'utf8').trim());
        pids.set(i, pid);
      }
      return pid;
    },
    port: (i) => {
      const serving = lines(i).find((l) => l.msg === 'serving /metrics and /healthz');
      const http = typeof serving?.http === 'string' ? serving.http : undefined;
      return http ? Number(http.split(':').pop()) : undefined;
    },
    assignment: (i) => {
      const owned = new Set<number>();
      for (const l of lines(i)) {
        const parts = Array.isArray(l.partitions) ? (l.partitions as number[]) : [];
        if (l.msg === 'partitions assigned') for (const p of parts) owned.add(p);
        if (l.msg === 'partitions revoked') for (const p of parts) owned.delete(p);
      }
      return [...owned].sort((a, b) => a - b);
    },
    stop: () => {
      if (script.exitCode === null) script.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * A Prometheus sample's value from /metrics: the sum over the label sets of `name` whose labels
 * contain `labels` (e.g. `le="1"`), or over all of them.
 */
export async function scrape(port: number, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (m && m[1] === name && (m[2] ?? '').includes(labels)) sum += Number(m[3]);
  }
  return sum;
}
