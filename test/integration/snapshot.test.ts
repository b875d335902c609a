import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackUp } from '../../stack/stack.js';
import { runCli, startJob, waitFor, type Job } from '../support/cli.js';
import { isolatedRun, waitForCommittedToEnd } from '../support/run-env.js';
import { syntheticStream } from '../support/synthetic-stream.js';

/** Issue 4: a restarted job restores its model from the snapshot the previous run left in Redis. */
const { name: run, env, cfg } = isolatedRun('snap', { RECPIPE_LOG_LEVEL: 'info' });
let redis: Redis;
let job: Job | undefined;

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  redis = new Redis(cfg.redis.url);
});
afterAll(() => {
  if (job && job.child.exitCode === null) job.child.kill('SIGKILL');
  redis?.disconnect();
});

describe('model snapshots', () => {
  it('are saved on a clean stop and restored by the next start', async () => {
    const stream = syntheticStream({ events: 1500, malformed: 0, duplicates: 0, seed: 5 });
    const input = join(mkdtempSync(join(tmpdir(), 'recpipe-snap-')), 'events.jsonl');
    writeFileSync(input, `${stream.lines.join('\n')}\n`);
    const p = await runCli(['produce', '--input', input, '--partitions', '3'], env);
    expect(p.code, p.stderr).toBe(0);

    job = startJob(['--http-port', '0'], env);
    await waitForCommittedToEnd(cfg);
    const first = job;
    first.child.kill('SIGTERM');
    expect(await first.exited, first.logs().slice(-2000)).toBe(0);

    const [key] = await redis.keys(`${cfg.redis.prefix}snapshot:*`);
    expect(key).toMatch(new RegExp(`snapshot:${run}-group:0:`));
    const size = await redis.strlen(key as string);
    expect(size).toBeGreaterThan(1000);
    expect(await redis.ttl(key as string)).toBeGreaterThan(0);

    job = startJob(['--http-port', '0'], env);
    const second = job;
    const restored = await waitFor('the restore log line', async () => {
      const line = second
        .logs()
        .split('\n')
        .find((l) => l.includes('model restored from snapshot'));
      return line ? (JSON.parse(line) as { bytes: number }) : undefined;
    });
    expect(restored.bytes).toBe(size);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
