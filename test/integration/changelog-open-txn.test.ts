import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChangelog } from '../../kafka/changelog-reader.js';
import { committedKeysSince } from '../../kafka/committed-keys.js';
import {
  callback,
  commonKafkaConfig,
  rdkafka,
  type KafkaConsumer,
  type Producer,
} from '../../kafka/rdkafka.js';
import { TransactionalProducer } from '../../kafka/transactional-producer.js';
import { stackUp } from '../../stack/stack.js';
import { ensureTopics } from '../../kafka/admin.js';
import { isolatedRun } from '../support/run-env.js';

/**
 * The faults-kafka flake (a restore after the broker came back, with this job's own transaction
 * from before the outage still open): the changelog and committed-keys readers must end at the
 * last stable offset, never wait for an open transaction, and see only committed records; a
 * restore that first lets the producer's in-flight commit settle sees what it committed.
 */
const { name, cfg } = isolatedRun('opentxn');
const topic = (suffix: string): string => `${name}-${suffix}`;
const open: Producer[] = [];
const noOffsets = undefined as unknown as KafkaConsumer;

async function rawTransactional(id: string): Promise<Producer> {
  const p = new (rdkafka().Producer)({
    ...commonKafkaConfig(cfg),
    'transactional.id': `${name}-${id}`,
    'transaction.timeout.ms': 120_000,
  });
  await callback((cb) => p.connect({ timeout: 10_000 }, cb));
  p.setPollInterval(50);
  await callback((cb) => p.initTransactions(10_000, cb));
  open.push(p);
  return p;
}

const timed = async <T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const t0 = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - t0 };
};

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  await ensureTopics(
    cfg,
    ['open', 'aborted', 'gated', 'push'].map((s) => ({
      name: topic(s),
      partitions: 1,
      config: { 'cleanup.policy': s === 'push' ? 'delete' : 'compact' },
    })),
  );
});

afterAll(async () => {
  for (const p of open) await callback((cb) => p.disconnect(cb)).catch(() => undefined);
});

describe('reading transactional topics while a transaction is open', () => {
  it('a changelog read ends before an open transaction, with the committed records only', async () => {
    const t = topic('open');
    const committed = new TransactionalProducer(cfg, `${name}-a`);
    await committed.connect();
    await committed.commit([{ topic: t, partition: 0, key: 'u1', value: 'v1' }], [], noOffsets);
    await committed.disconnect();
    const p = await rawTransactional('b');
    await callback((cb) => p.beginTransaction(cb));
    p.produce(t, 0, Buffer.from('v2'), 'u2', Date.now());
    p.produce(t, 0, Buffer.from('v1b'), 'u1', Date.now());
    await callback((cb) => p.flush(10_000, cb));

    const during = await timed(() => readChangelog(cfg, t, [0], { timeoutMs: 20_000 }));
    expect([...during.value.values.keys()]).toEqual(['u1']);
    expect(during.value.values.get('u1')?.value?.toString()).toBe('v1');
    // Far below transaction.timeout.ms (120 s): the read did not wait for the transaction.
    expect(during.ms).toBeLessThan(15_000);

    await callback((cb) => p.commitTransaction(10_000, cb));
    const after = await readChangelog(cfg, t, [0], { timeoutMs: 20_000 });
    expect([...after.values.keys()].sort()).toEqual(['u1', 'u2']);
    expect(after.values.get('u1')?.value?.toString()).toBe('v1b');
  });

  it('a changelog holding only an aborted transaction reads as empty at once', async () => {
    const t = topic('aborted');
    const p = await rawTransactional('c');
    await callback((cb) => p.beginTransaction(cb));
    p.produce(t, 0, Buffer.from('x'), 'u9', Date.now());
    await callback((cb) => p.flush(10_000, cb));
    await callback((cb) => p.abortTransaction(10_000, cb));
    const r = await timed(() => readChangelog(cfg, t, [0], { timeoutMs: 20_000 }));
    expect(r.value.values.size).toBe(0);
    expect(r.ms).toBeLessThan(15_000);
  });

  it('committed push keys are read up to an open transaction, without its keys', async () => {
    const t = topic('push');
    const since = Date.now() - 1_000;
    const committed = new TransactionalProducer(cfg, `${name}-d`);
    await committed.connect();
    const msg = (key: string) => ({
      topic: t,
      key: 'u',
      value: 'p',
      headers: { 'idempotency-key': key },
    });
    await committed.commit([msg('k1')], [], noOffsets);
    await committed.disconnect();
    const p = await rawTransactional('e');
    await callback((cb) => p.beginTransaction(cb));
    p.produce(t, 0, Buffer.from('p'), 'u', Date.now(), undefined, [{ 'idempotency-key': 'k2' }]);
    await callback((cb) => p.flush(10_000, cb));
    const r = await timed(() => committedKeysSince(cfg, t, since, 20_000));
    expect([...r.value]).toEqual(['k1']);
    expect(r.ms).toBeLessThan(15_000);
  });

  it('settled() waits for the commit in flight; a read after it sees that commit', async () => {
    const t = topic('gated');
    const producer = new TransactionalProducer(cfg, `${name}-f`);
    await producer.connect();
    const records = Array.from({ length: 500 }, (_, i) => ({
      topic: t,
      partition: 0,
      key: `u${i}`,
      value: `v${i}`,
    }));
    const commit = producer.commit(records, [], noOffsets);
    const state = (): Promise<unknown> =>
      Promise.race([
        producer.settled().then(() => 'settled'),
        new Promise((r) => setTimeout(() => r('in flight'), 0)),
      ]);
    expect(await state()).toBe('in flight');
    await producer.settled();
    const r = await readChangelog(cfg, t, [0], { timeoutMs: 20_000 });
    await commit;
    await producer.disconnect();
    expect(r.values.size).toBe(500);
    expect(await state()).toBe('settled');
  });
});
