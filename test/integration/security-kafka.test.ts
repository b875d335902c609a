import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { stackUp } from '../../stack/stack.js';
import { kafkaLibsDir, kafkaLibsReady } from '../../stack/kafka-libs.js';
import { committedOffsets, endOffsets, ensureTopics } from '../../kafka/admin.js';
import type { SinkLog } from '../../sinks/types.js';
import { lastJson, runCli, startJob, waitFor, type Job } from '../support/cli.js';
import { syntheticStream } from '../support/synthetic-stream.js';

/**
 * Kafka with SASL/SCRAM-SHA-256: a throwaway single-node KRaft broker of this test's own whose
 * only client listener is SASL_PLAINTEXT (the shared stack's broker is left alone). `produce`,
 * the admin helpers and the whole `recpipe run` (consumer + transactional producer) authenticate
 * with credentials from the environment only; a wrong password fails with a clear error that
 * does not contain it.
 */
const USER = 'recpipe';
const PASSWORD = 'scram-Pa55 with spaces';
const WRONG = 'wrong-kafka-pass-do-not-log';
const run = `sasl${Date.now().toString(36)}`;
// "Connection refused" while the throwaway broker boots is expected, not worth a screenful.
const quiet: SinkLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
let broker: ChildProcess | undefined;
let port = 0;
let job: Job | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

const envFor = (password: string): Record<string, string> => ({
  RECPIPE_KAFKA_BROKERS: `127.0.0.1:${port}`,
  RECPIPE_KAFKA_SASL_MECHANISM: 'scram-sha-256',
  RECPIPE_KAFKA_SASL_USERNAME: USER,
  RECPIPE_KAFKA_SASL_PASSWORD: password,
  RECPIPE_KAFKA_INPUT_TOPIC: `${run}-clickstream`,
  RECPIPE_KAFKA_ITEMS_TOPIC: `${run}-items`,
  RECPIPE_KAFKA_DLQ_TOPIC: `${run}-dlq`,
  RECPIPE_KAFKA_PUSH_TOPIC: `${run}-push`,
  RECPIPE_KAFKA_GROUP_ID: `${run}-group`,
  RECPIPE_CLICKHOUSE_DATABASE: run,
  RECPIPE_REDIS_PREFIX: `${run}:`,
  RECPIPE_LOG_LEVEL: 'warn',
});

beforeAll(async () => {
  // Redis and ClickHouse come from the shared stack (which also fetches the Kafka jars).
  await stackUp(loadConfig(undefined, process.env), () => undefined);
  if (!kafkaLibsReady()) throw new Error('the Kafka jars are not in .cache/kafka-libs');
  port = await freePort();
  const controller = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'recpipe-sasl-kafka-'));
  const props = join(dir, 'server.properties');
  const jaas = (user: string, pass: string): string =>
    `org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${pass}";`;
  writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controller}`,
      `listeners=SASL_PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=SASL_PLAINTEXT',
      'listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
      'sasl.enabled.mechanisms=SCRAM-SHA-256',
      'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256',
      `listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=${jaas('admin', 'admin-secret')}`,
      `log.dirs=${join(dir, 'data')}`,
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'default.replication.factor=1',
      'offsets.topic.num.partitions=3',
      'transaction.state.log.num.partitions=3',
      'group.initial.rebalance.delay.ms=0',
      'num.network.threads=2',
      'num.io.threads=2',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'log4j.properties'),
    `log4j.rootLogger=WARN, file\nlog4j.appender.file=org.apache.log4j.FileAppender\nlog4j.appender.file.File=${join(dir, 'server.log')}\nlog4j.appender.file.layout=org.apache.log4j.PatternLayout\nlog4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n\n`,
  );
  const cp = [
    '-cp',
    join(kafkaLibsDir(), '*'),
    `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
  ];
  // KRaft has no ZooKeeper to hold SCRAM credentials: they are written at format time.
  const fmt = spawnSync(
    'java',
    [
      ...cp,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      'c2FzbC10ZXN0LWNsdXN0ZXI',
      '-c',
      props,
      '--add-scram',
      `SCRAM-SHA-256=[name=admin,password=admin-secret]`,
      '--add-scram',
      `SCRAM-SHA-256=[name=${USER},password="${PASSWORD}"]`,
    ],
    { encoding: 'utf8' },
  );
  if (fmt.status !== 0) throw new Error(`storage format failed: ${fmt.stdout}${fmt.stderr}`);
  broker = spawn('java', ['-Xms128m', '-Xmx384m', ...cp, 'kafka.Kafka', props], {
    stdio: 'ignore',
  });
  const cfg = loadConfig(undefined, { ...process.env, ...envFor(PASSWORD) });
  await waitFor(
    'the SASL broker to accept our credentials',
    async () => {
      await ensureTopics(cfg, [{ name: cfg.kafka.inputTopic, partitions: 3 }], {
        timeoutMs: 5_000,
        log: quiet,
      });
      return true;
    },
    120_000,
    1_000,
  );
});

afterAll(() => {
  if (job && job.child.exitCode === null) job.child.kill('SIGKILL');
  broker?.kill('SIGKILL');
});

describe('Kafka SASL/SCRAM-SHA-256', () => {
  it('produce and the whole run job authenticate with credentials from the environment', async () => {
    const env = envFor(PASSWORD);
    const cfg = loadConfig(undefined, { ...process.env, ...env });
    const stream = syntheticStream({ events: 500, malformed: 10, duplicates: 0, seed: 21 });
    const dir = mkdtempSync(join(tmpdir(), 'recpipe-sasl-in-'));
    writeFileSync(join(dir, 'in.jsonl'), `${stream.lines.join('\n')}\n`);
    const p = await runCli(['produce', '--input', join(dir, 'in.jsonl'), '--json'], env);
    expect(p.code, p.stderr).toBe(0);
    expect(lastJson<{ produced: number }>(p.stdout).produced).toBe(stream.lines.length);

    job = startJob(['--http-port', '0'], env);
    const ends = await endOffsets(cfg, cfg.kafka.inputTopic);
    expect(ends.reduce((n, e) => n + e.high, 0)).toBe(stream.lines.length);
    await waitFor(
      'the job to commit every offset through the SASL listener',
      async () => {
        const c = await committedOffsets(cfg, cfg.kafka.groupId, cfg.kafka.inputTopic);
        return ends.every(
          (e) => (c.find((x) => x.partition === e.partition)?.offset ?? -1) >= e.high,
        );
      },
      120_000,
      500,
    );
    const running = job;
    running.child.kill('SIGTERM');
    expect(await running.exited, running.logs().slice(-3000)).toBe(0);
    expect(running.logs()).not.toContain(PASSWORD);
  });

  it('a wrong password fails with an authentication error that does not echo it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recpipe-sasl-bad-'));
    writeFileSync(join(dir, 'in.jsonl'), '{"event_id":"x"}\n');
    const started = Date.now();
    const r = await runCli(
      ['produce', '--input', join(dir, 'in.jsonl'), '--json'],
      envFor(WRONG),
      90_000,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/rejected the SCRAM-SHA-256 credentials of user "recpipe"/);
    expect(r.stderr).toMatch(/RECPIPE_KAFKA_SASL_PASSWORD/);
    expect(r.stderr).not.toContain(WRONG);
    // The refusal is reported as soon as librdkafka logs it (within a second); the process still
    // exits only when the client's pending request times out (30 s), which this does not assert.
    expect(r.stderr).toMatch(/after \d+ms in state AUTH_REQ/);
    console.log(
      `security-kafka: wrong password rejected after ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });
});
