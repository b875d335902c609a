import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { KafkaConsumerSource, type TopicPartition } from '../../kafka/consumer-source.js';

const ERR_ASSIGN_PARTITIONS = -175;

/** The librdkafka rebalance callback, as the native consumer would call it. */
function rebalance(source: KafkaConsumerSource, code: number, parts: TopicPartition[]): void {
  (source as unknown as { rebalance(c: number, a: TopicPartition[]): void }).rebalance(code, parts);
}

function source(assigned: TopicPartition[][], logs: string[]): KafkaConsumerSource {
  // Never connected: the rebalance path runs against a consumer that refuses assign(), as a
  // closing one does.
  return new KafkaConsumerSource(loadConfig(undefined, {}), {
    topics: ['clickstream'],
    groupId: 'g',
    batchMaxMessages: 10,
    batchMaxMs: 50,
    maxInFlight: 2,
    onAssign: (parts) => void assigned.push([...parts]),
    onLog: (msg) => void logs.push(msg),
  });
}

describe('KafkaConsumerSource assignments while stopping', () => {
  const parts = [
    { topic: 'clickstream', partition: 0 },
    { topic: 'clickstream', partition: 1 },
  ];

  it('announces an assignment while running', () => {
    const assigned: TopicPartition[][] = [];
    const s = source(assigned, []);
    rebalance(s, ERR_ASSIGN_PARTITIONS, parts);
    expect(assigned).toEqual([parts]);
    expect(s.owns('clickstream', 1)).toBe(true);
  });

  it('does not announce partitions handed over after stop(): no restore outlives the job', () => {
    const assigned: TopicPartition[][] = [];
    const logs: string[] = [];
    const s = source(assigned, logs);
    s.stop();
    rebalance(s, ERR_ASSIGN_PARTITIONS, parts);
    expect(assigned).toEqual([]);
    expect(s.owns('clickstream', 0)).toBe(false);
    // The unconnected consumer refuses the assign; that is logged, never thrown.
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^assign while stopping failed/);
  });
});

const ERR_REVOKE_PARTITIONS = -174;

describe('KafkaConsumerSource rebalance events around the close', () => {
  const parts = [{ topic: 'clickstream', partition: 0 }];

  /**
   * A source whose consumer records the native calls a rebalance makes. The binding's
   * assignmentLost() dereferences the librdkafka handle unchecked (a freed one after the close:
   * SIGSEGV), so the spy stands in for it and counts.
   */
  function closingSource(onRevoke: () => Promise<void>) {
    const calls: string[] = [];
    const s = new KafkaConsumerSource(loadConfig(undefined, {}), {
      topics: ['clickstream'],
      groupId: 'g',
      batchMaxMessages: 10,
      batchMaxMs: 50,
      maxInFlight: 2,
      onRevoke,
    });
    Object.assign(s.consumer, {
      isConnected: () => true,
      assignmentLost: () => (calls.push('assignmentLost'), false),
      rebalanceProtocol: () => 'EAGER',
      unassign: () => void calls.push('unassign'),
      disconnect: (cb: (err: unknown) => void) => {
        calls.push('disconnect');
        cb(undefined);
      },
    });
    return { s, calls };
  }

  it('lets a revoke in progress give its partitions back before the close starts', async () => {
    let finish: () => void = () => undefined;
    const { s, calls } = closingSource(() => new Promise<void>((r) => (finish = r)));
    s.stop();
    rebalance(s, ERR_REVOKE_PARTITIONS, parts);
    const closed = s.disconnect();
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toEqual(['assignmentLost']);
    finish();
    await closed;
    expect(calls).toEqual(['assignmentLost', 'unassign', 'disconnect']);
  });

  it('answers the close its one revoke, and makes no native call for later events', async () => {
    const { s, calls } = closingSource(() => Promise.resolve());
    s.stop();
    await s.disconnect();
    // Events the binding queued before it freed the handle, delivered after.
    rebalance(s, ERR_REVOKE_PARTITIONS, parts);
    rebalance(s, ERR_REVOKE_PARTITIONS, parts);
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toEqual(['disconnect', 'unassign']);
  });
});
