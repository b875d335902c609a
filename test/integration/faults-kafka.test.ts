import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, stopService } from '../../stack/stack.js';
import { lastJson, runCli, waitFor, type CliResult } from '../support/cli.js';
import {
  OUTAGE_S,
  committedTotal,
  downStack,
  expectExactlyOnce,
  faultRun,
  sleep,
  startFaultJob,
  stores,
  upStack,
  writeStream,
  type RunningJob,
  type Stores,
} from '../support/faults.js';
import { waitForCommittedToEnd } from '../support/run-env.js';
import { readTopic } from '../support/kafka-read.js';
import { syntheticStream } from '../support/synthetic-stream.js';

/**
 * The broker itself restarts under a running job: fetches, the transactional producer and the
 * group coordinator all go away and come back. The job must ride it out (no exit, no manual
 * restart), then consume what is produced after the restart, with every event, dead letter and
 * DLQ message exactly once.
 */
const run = faultRun('kafka');
const stream = syntheticStream({ events: 6_000, malformed: 60, duplicates: 150, seed: 13 });
let s: Stores;
let job: RunningJob | undefined;

beforeAll(async () => {
  await upStack(run.cfg);
  s = stores(run);
});

afterAll(async () => {
  if (job && job.child.exitCode === null) job.child.kill('SIGKILL');
  await s?.close();
  await downStack(run.cfg);
});

const produce = (lines: readonly string[]): Promise<CliResult> =>
  runCli(
    ['produce', '--input', writeStream(lines), '--partitions', '3', '--rate', '2000', '--json'],
    run.env,
  );

describe(`Kafka broker down for ${OUTAGE_S} s under a running job`, () => {
  it('reconnects by itself and delivers everything exactly once', async () => {
    job = await startFaultJob(run);
    const cut = Math.floor(stream.lines.length / 2);
    const first = await produce(stream.lines.slice(0, cut));
    expect(first.code, first.stderr).toBe(0);
    await waitFor('the first events in ClickHouse', async () => (await s.events()) >= 600);

    await stopService(run.cfg, 'kafka');
    const t0 = Date.now();
    const health = await waitFor(
      '/healthz to report Kafka down',
      async () => {
        const h = await job?.healthz();
        return h && h.status === 503 && h.checks.kafka === false ? h : undefined;
      },
      Math.max(10_000, OUTAGE_S * 1000),
      500,
    );
    await sleep(Math.max(0, t0 + OUTAGE_S * 1000 - Date.now()));
    expect(job.child.exitCode, job.logs().slice(-3000)).toBe(null);
    await startService(run.cfg, 'kafka');
    const outageSeconds = (Date.now() - t0) / 1000;

    const t1 = Date.now();
    const second = await produce(stream.lines.slice(cut));
    expect(second.code, second.stderr).toBe(0);
    expect(
      lastJson<{ produced: number }>(first.stdout).produced +
        lastJson<{ produced: number }>(second.stdout).produced,
    ).toBe(stream.lines.length);
    const running0 = job;
    await waitForCommittedToEnd(run.cfg, 120_000).catch(async (err: Error) => {
      const committed = await committedTotal(run).catch(() => -1);
      throw new Error(
        `${err.message} (committed ${committed} of ${stream.lines.length})\njob log:\n${running0.logs().slice(-6000)}`,
      );
    });
    const recoverySeconds = (Date.now() - t1) / 1000;
    await waitFor('/healthz green again', async () => (await job?.healthz())?.status === 200);
    console.log(
      `faults-kafka: broker down ${outageSeconds.toFixed(1)} s (healthz ${health.status} ${JSON.stringify(health.checks)}), ` +
        `all ${await committedTotal(run)} offsets committed ${recoverySeconds.toFixed(1)} s after the restart`,
    );

    const running = job;
    running.child.kill('SIGTERM');
    expect(await running.exited, running.logs().slice(-3000)).toBe(0);
    const counts = await expectExactlyOnce(s, stream);
    const dlq = await readTopic(run.cfg.kafka.brokers, run.cfg.kafka.dlqTopic);
    const sources = new Set(
      dlq.map((m) => {
        const v = JSON.parse(m.value) as { partition: number; offset: number };
        return `${v.partition}/${v.offset}`;
      }),
    );
    expect(dlq.length).toBe(stream.malformedLines.length);
    expect(sources.size).toBe(stream.malformedLines.length);
    console.log(
      `faults-kafka: ${counts.events} events, ${counts.deadLetters} dead letters, ${dlq.length} DLQ messages exactly once`,
    );
  });
});
