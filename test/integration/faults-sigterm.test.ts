import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, stopService } from '../../stack/stack.js';
import { runCli, waitFor } from '../support/cli.js';
import {
  committedTotal,
  downStack,
  expectExactlyOnce,
  faultRun,
  sleep,
  startFaultJob,
  stores,
  upStack,
  writeStream,
  type FaultRun,
  type RunningJob,
  type Stores,
} from '../support/faults.js';
import { waitForCommittedToEnd } from '../support/run-env.js';
import { syntheticStream } from '../support/synthetic-stream.js';

/**
 * SIGTERM while a store is down. The job stops pulling at once and keeps retrying the batches it
 * holds until `pipeline.drainTimeoutMs`:
 *  - the store comes back in time: the drain completes, offsets are committed, exit 0;
 *  - it does not: the job gives up those batches WITHOUT committing them and exits 75, so the
 *    next start replays them. Either way nothing is lost or duplicated in what readers see.
 */
const DRAIN_MS = 4_000;
const base = faultRun('term');
const withDrain = (ms: number): FaultRun => ({
  ...base,
  env: { ...base.env, RECPIPE_PIPELINE_DRAIN_TIMEOUT_MS: String(ms) },
});
const stream = syntheticStream({ events: 6_000, malformed: 60, duplicates: 150, seed: 15 });
let s: Stores;
let job: RunningJob | undefined;

beforeAll(async () => {
  await upStack(base.cfg);
  s = stores(base);
});

afterAll(async () => {
  if (job && job.child.exitCode === null) job.child.kill('SIGKILL');
  await startService(base.cfg, 'redis');
  await s?.close();
  await downStack(base.cfg);
});

// Rate-limited and not awaited before the outage: the job must still be reading when Redis
// goes away, or (draining as fast as it does) it has nothing in flight to hold or drain.
const produce = async (lines: readonly string[]): Promise<void> => {
  const r = await runCli(
    ['produce', '--input', writeStream(lines), '--partitions', '3', '--rate', '1000', '--json'],
    base.env,
  );
  expect(r.code, r.stderr).toBe(0);
};

describe('SIGTERM during a Redis outage', () => {
  it('drains when the store returns in time, else exits 75 without committing; nothing is lost', async () => {
    const half = Math.floor(stream.lines.length / 2);
    // 1. The store comes back within the drain deadline: a clean drain, exit 0.
    job = await startFaultJob(withDrain(30_000));
    const firstHalf = produce(stream.lines.slice(0, half));
    await waitFor('the first events in ClickHouse', async () => (await s.events()) >= 300);
    await stopService(base.cfg, 'redis');
    await sleep(1_000);
    const beforeTerm = await committedTotal(base);
    const first = job;
    first.child.kill('SIGTERM');
    await sleep(3_000);
    expect(first.child.exitCode, 'still draining while Redis is down').toBe(null);
    expect(await committedTotal(base)).toBe(beforeTerm);
    await startService(base.cfg, 'redis');
    const t = Date.now();
    expect(await first.exited, first.logs().slice(-3000)).toBe(0);
    const drained = await committedTotal(base);
    expect(drained).toBeGreaterThan(beforeTerm);
    await firstHalf;
    console.log(
      `faults-sigterm: drain completed ${((Date.now() - t) / 1000).toFixed(1)} s after Redis returned; ` +
        `committed ${beforeTerm} → ${drained}, exit 0`,
    );

    // 2. The store stays down past the deadline: exit 75, the held batches are not committed.
    job = await startFaultJob(withDrain(DRAIN_MS));
    const secondHalf = produce(stream.lines.slice(half));
    await waitFor('the job to commit more', async () => (await committedTotal(base)) > drained);
    await stopService(base.cfg, 'redis');
    await sleep(1_000);
    const atTerm = await committedTotal(base);
    const second = job;
    const termAt = Date.now();
    second.child.kill('SIGTERM');
    const code = await second.exited;
    const took = (Date.now() - termAt) / 1000;
    expect(code, second.logs().slice(-3000)).toBe(75);
    expect(second.logs()).toMatch(/stopped without a full drain/);
    expect(took).toBeLessThan(DRAIN_MS / 1000 + 10);
    expect(await committedTotal(base)).toBe(atTerm);
    await secondHalf;
    console.log(
      `faults-sigterm: Redis still down, exit ${code} after ${took.toFixed(1)} s (deadline ${DRAIN_MS / 1000} s), ` +
        `committed stayed at ${atTerm} of ${stream.lines.length}`,
    );

    // 3. Restart everything: the uncommitted batches are replayed, every record exactly once.
    await startService(base.cfg, 'redis');
    job = await startFaultJob(base);
    await waitForCommittedToEnd(base.cfg, 120_000);
    const last = job;
    last.child.kill('SIGTERM');
    expect(await last.exited, last.logs().slice(-3000)).toBe(0);
    const counts = await expectExactlyOnce(s, stream);
    console.log(
      `faults-sigterm: ${counts.events} events and ${counts.deadLetters} dead letters exactly once`,
    );
  });
});
