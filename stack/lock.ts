import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { stateRoot } from './layout.js';
import { isAlive, sleep } from './process.js';
import type { Log } from './service.js';

const WAIT_MS = 15 * 60_000;

/**
 * Serialises stack commands across processes: two `stack up`s at once (two terminals, two test
 * files) would otherwise both see a service down and start it twice on the same port.
 */
export async function withStackLock<T>(cfg: Config, log: Log, fn: () => Promise<T>): Promise<T> {
  const root = stateRoot(cfg);
  mkdirSync(root, { recursive: true });
  const file = join(root, 'stack.lock');
  const deadline = Date.now() + WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(file);
    if (holder === undefined || !isAlive(holder)) {
      // Left behind by a killed command; nobody is working under it.
      rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`another \`recpipe stack\` (pid ${holder}) still holds ${file}`);
    if (!announced) {
      log(`stack: waiting for another \`recpipe stack\` command (pid ${holder}) to finish`);
      announced = true;
    }
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}

function readHolder(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
