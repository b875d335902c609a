import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackUp } from '../../stack/stack.js';
import { kafkaClient } from '../../kafka/client.js';
import { lastJson, runCli } from '../support/cli.js';
import {
  expectExactlyOnce,
  faultRun,
  sampleRss,
  startFaultJob,
  stores,
  writeStream,
  type RunningJob,
  type Stores,
} from '../support/faults.js';
import { waitForCommittedToEnd } from '../support/run-env.js';
import { readTopic } from '../support/kafka-read.js';
import { mulberry32, syntheticStream } from '../support/synthetic-stream.js';

/**
 * A burst of 1,000 poison messages in the middle of a valid stream: oversized JSON (up to 200 KiB,
 * past the 16 KiB limit), random bytes that are not UTF-8, deeply nested arrays, NUL bytes, huge
 * numbers, valid JSON of the wrong shape. Every one must become one dead letter (ClickHouse and
 * the DLQ topic), the valid events around them must all arrive, and the job must not stall or
 * balloon. No service is stopped, so this runs on the shared stack.
 */
const run = faultRun('poison', {}, { sharedStack: true });
const stream = syntheticStream({ events: 3_000, malformed: 24, duplicates: 50, seed: 14 });
const POISON = 1_000;
let s: Stores;
let job: RunningJob | undefined;

beforeAll(async () => {
  await stackUp(run.cfg, () => undefined);
  s = stores(run);
});

afterAll(async () => {
  if (job && job.child.exitCode === null) job.child.kill('SIGKILL');
  await s?.close();
});

function poison(i: number, rnd: () => number): Buffer {
  switch (i % 8) {
    case 0: {
      const size = 17_000 + Math.floor(rnd() * 190_000);
      return Buffer.from(
        JSON.stringify({
          event_id: `p${i}`,
          ts: 1,
          user_id: 'u',
          item_id: 'i',
          type: 'view',
          props: { blob: 'x'.repeat(size) },
        }),
      );
    }
    case 1:
      return randomBytes(1 + Math.floor(rnd() * 4096));
    case 2:
      return Buffer.from('['.repeat(5_000 + Math.floor(rnd() * 5_000)));
    case 3:
      return Buffer.from(
        `{"event_id":"p${i}\u0000","ts":1,"user_id":"u\u0000","item_id":"i","type":"view"}`,
      );
    case 4:
      return Buffer.from(
        `{"event_id":"p${i}","ts":1e999,"user_id":"u","item_id":"i","type":"view"}`,
      );
    case 5:
      return Buffer.from(
        JSON.stringify({ event_id: `p${i}`, nested: { deeper: [1, 2, { x: null }] } }),
      );
    case 6:
      return Buffer.alloc(0);
    default:
      return Buffer.from('\uFFFF\uD800 not json \u202E'.repeat(1 + Math.floor(rnd() * 50)));
  }
}

describe('a burst of 1,000 poison messages', () => {
  it('dead-letters each once, loses no valid event, and keeps memory bounded', async () => {
    job = await startFaultJob(run);
    const rss = sampleRss(job.child.pid as number);
    const half = Math.floor(stream.lines.length / 2);
    const first = await runCli(
      [
        'produce',
        '--input',
        writeStream(stream.lines.slice(0, half)),
        '--partitions',
        '3',
        '--json',
      ],
      run.env,
    );
    expect(first.code, first.stderr).toBe(0);

    const rnd = mulberry32(99);
    const producer = kafkaClient(run.cfg).producer();
    await producer.connect();
    const messages = Array.from({ length: POISON }, (_, i) => ({
      key: `poison-${i % 17}`,
      value: poison(i, rnd),
    }));
    for (let i = 0; i < messages.length; i += 50)
      await producer.send({ topic: run.cfg.kafka.inputTopic, messages: messages.slice(i, i + 50) });
    await producer.disconnect();
    const bytes = messages.reduce((n, m) => n + m.value.length, 0);

    const second = await runCli(
      ['produce', '--input', writeStream(stream.lines.slice(half)), '--partitions', '3', '--json'],
      run.env,
    );
    expect(second.code, second.stderr).toBe(0);
    expect(
      lastJson<{ produced: number }>(first.stdout).produced +
        lastJson<{ produced: number }>(second.stdout).produced,
    ).toBe(stream.lines.length);

    await waitForCommittedToEnd(run.cfg, 120_000);
    const mem = rss.stop();
    expect((await job.healthz()).status).toBe(200);
    const running = job;
    running.child.kill('SIGTERM');
    expect(await running.exited, running.logs().slice(-3000)).toBe(0);

    // The stream's own malformed lines plus the burst, each once.
    const poisonOffsets = Array.from({ length: POISON }, () => 0);
    const expected = {
      validIds: stream.validIds,
      malformedLines: [...stream.malformedLines, ...poisonOffsets],
    };
    const counts = await expectExactlyOnce(s, expected);
    const dlq = await readTopic(run.cfg.kafka.brokers, run.cfg.kafka.dlqTopic, 3_000, 120_000);
    expect(dlq.length).toBe(expected.malformedLines.length);
    const codes = await s.ch.query<{ code: string; n: string }>(
      `SELECT reason_code AS code, count() AS n FROM ${run.name}.dead_letters FINAL GROUP BY code ORDER BY code`,
    );
    console.log(
      `faults-poison: ${POISON} poison messages (${(bytes / 2 ** 20).toFixed(1)} MiB) among ${stream.lines.length} lines → ` +
        `${counts.events} events, ${counts.deadLetters} dead letters, ${dlq.length} DLQ messages; ` +
        `reasons ${codes.map((c) => `${c.code}=${c.n}`).join(' ')}; RSS ${(mem.min / 2 ** 20).toFixed(0)}–${(mem.max / 2 ** 20).toFixed(0)} MiB`,
    );
    expect(mem.max).toBeLessThan(512 * 2 ** 20);
  });
});
