import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.js';

export type ServiceName = 'kafka' | 'redis' | 'clickhouse';

/** Start order matters only for log readability: the fast ones report first. */
export const SERVICE_NAMES: readonly ServiceName[] = ['redis', 'clickhouse', 'kafka'];

export function isServiceName(s: string): s is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(s);
}

/** Where one service keeps everything it owns, so `down` and a wipe touch nothing else. */
export interface ServiceLayout {
  readonly dir: string;
  readonly pidFile: string;
  /** The process's own stdout/stderr; the service's log file proper lives beside it under logs/. */
  readonly stdoutFile: string;
  readonly logsDir: string;
}

export function stateRoot(cfg: Config): string {
  return resolve(cfg.stateDir);
}

export function serviceLayout(cfg: Config, name: ServiceName): ServiceLayout {
  const dir = join(stateRoot(cfg), name);
  return {
    dir,
    pidFile: join(dir, `${name}.pid`),
    stdoutFile: join(dir, 'logs', 'stdout.log'),
    logsDir: join(dir, 'logs'),
  };
}

/**
 * Writes a generated config file readable by its owner only (0600): redis.conf and users.xml
 * hold passwords. chmod as well, because `mode` applies only when the file is created.
 */
export function writePrivateFile(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

let cachedRoot: string | undefined;

/**
 * The installed package's root (where deploy/ and scripts/ live). Found by walking up because this
 * module runs both from source (vitest) and from dist/, at different depths.
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (
      existsSync(join(dir, 'deploy', 'kafka', 'pom.xml')) &&
      existsSync(join(dir, 'package.json'))
    ) {
      cachedRoot = dir;
      return dir;
    }
    const up = dirname(dir);
    if (up === dir)
      throw new Error(
        'cannot find the recpipe package root (deploy/kafka/pom.xml) above ' + import.meta.url,
      );
    dir = up;
  }
}
