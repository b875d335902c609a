import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './layout.js';
import { findExecutable } from './process.js';
import type { Log } from './service.js';

const STAMP = '.pom-sha256';

export function kafkaPom(): string {
  return join(packageRoot(), 'deploy', 'kafka', 'pom.xml');
}

/** Shared by every state dir: the jars depend only on the pinned pom, and fetching them is the slow part. */
export function kafkaLibsDir(): string {
  return join(packageRoot(), '.cache', 'kafka-libs');
}

function pomDigest(): string {
  return createHash('sha256').update(readFileSync(kafkaPom())).digest('hex');
}

/** Ready means fetched completely for the current pom; a version bump in the pom invalidates the cache. */
export function kafkaLibsReady(): boolean {
  const dir = kafkaLibsDir();
  const stamp = join(dir, STAMP);
  return existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === pomDigest();
}

/**
 * Fetches the broker's jars with Maven into a scratch dir and renames it into place, so an interrupted
 * fetch never leaves a half-filled cache that looks usable.
 */
export async function ensureKafkaLibs(log: Log): Promise<string> {
  const dir = kafkaLibsDir();
  if (kafkaLibsReady()) return dir;
  const mvn = findExecutable('mvn');
  if (!mvn) throw new Error('mvn (Maven) not found; it is needed once to fetch the Kafka jars');
  const scratch = `${dir}.tmp-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  log(`kafka: fetching broker jars with Maven into ${dir} (first run only)`);
  const started = Date.now();
  const args = [
    '-B',
    '-q',
    '-Dstyle.color=never',
    '-f',
    kafkaPom(),
    'dependency:copy-dependencies',
    `-DoutputDirectory=${scratch}`,
    '-DincludeScope=runtime',
  ];
  const output = await run(mvn, args);
  const jars = readdirSync(scratch).filter((f) => f.endsWith('.jar'));
  if (output.code !== 0 || !jars.some((j) => j.startsWith('kafka_2.13-'))) {
    rmSync(scratch, { recursive: true, force: true });
    throw new Error(
      `Maven could not fetch the Kafka jars (exit ${output.code}):\n${output.text.slice(-4000)}`,
    );
  }
  writeFileSync(join(scratch, STAMP), pomDigest() + '\n');
  rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(scratch, dir);
  } catch (err) {
    // Another checkout-sharing process (a parallel test run) finished the same fetch first.
    rmSync(scratch, { recursive: true, force: true });
    if (!kafkaLibsReady()) throw err;
  }
  log(`kafka: ${jars.length} jars ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

export function run(
  command: string,
  args: readonly string[],
  cwd?: string,
): Promise<{ code: number; text: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, [...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const add = (b: Buffer): void => {
      // Bounded: only the tail ends up in an error message.
      text = (text + b.toString('utf8')).slice(-64 * 1024);
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code: code ?? 1, text }));
  });
}
