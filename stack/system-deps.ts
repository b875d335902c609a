import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from './layout.js';
import { findExecutable } from './process.js';
import type { Log } from './service.js';

export function installScript(): string {
  return join(packageRoot(), 'scripts', 'install-system-deps.sh');
}

/**
 * Makes sure the executables exist, installing through the project's apt script when we are root.
 * Anyone else gets told exactly what is missing instead of a sudo prompt in the middle of a command.
 */
export async function ensureBinaries(binaries: readonly string[], log: Log): Promise<void> {
  const missing = [...new Set(binaries)].filter((b) => !findExecutable(b));
  if (missing.length === 0) return;
  const script = installScript();
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing ${missing.join(', ')}; install them with \`sudo bash ${script}\` ` +
        `(Debian/Ubuntu: redis-server, clickhouse-server, default-jre-headless, maven)`,
    );
  }
  log(
    `stack: ${missing.join(', ')} missing; installing system packages with ${script} (may take a few minutes)`,
  );
  const code = await new Promise<number>((resolveRun, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = (b: Buffer): void => {
      for (const line of b.toString('utf8').split('\n')) if (line.trim()) log(line);
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.once('error', reject);
    child.once('close', (c) => resolveRun(c ?? 1));
  });
  const still = missing.filter((b) => !findExecutable(b));
  if (code !== 0 || still.length > 0) {
    throw new Error(
      `installing system packages failed (exit ${code}); still missing: ${still.join(', ') || 'none'}`,
    );
  }
}
