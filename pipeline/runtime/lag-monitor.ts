import type {
  TopicPartitionOffsetAndMetadata,
  WatermarkOffsets,
} from '@confluentinc/kafka-javascript';
import { callback, type KafkaConsumer } from '../../kafka/rdkafka.js';
import type { Metrics } from '../metrics.js';

/** What the monitor needs from the consumer; a structural subset so tests can fake it. */
export type LagConsumer = Pick<
  KafkaConsumer,
  'assignments' | 'committed' | 'queryWatermarkOffsets'
>;

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to be written (log end). */
  readonly high: number;
  /** Next offset the group will read; -1 when it has committed nothing on this partition. */
  readonly committed: number;
  /** Messages not committed yet; counted from the log start when nothing is committed. */
  readonly lag: number;
}

export interface LagMonitor {
  /** One poll now (the timer also calls this); resolves with the partitions it could measure. */
  poll(): Promise<PartitionLag[]>;
  /** False when the last poll could not reach the broker. */
  healthy(): boolean;
  stop(): void;
}

export interface LagMonitorOptions {
  readonly intervalMs: number;
  /** Per broker request; short, so a poll during an outage does not hold a libuv thread long. */
  readonly timeoutMs?: number;
  readonly onError?: (err: unknown) => void;
}

/**
 * Consumer lag per assigned partition: high watermark minus the group's committed offset, the
 * figure Kafka's own tooling shows. The job commits through its transactional producer, so the
 * committed offset is read back from the group coordinator rather than tracked locally. Polls
 * never overlap, and a failed poll leaves the gauges at their last value (and counts an error):
 * during a broker outage the lag is unknown, not zero.
 */
export function startLagMonitor(
  consumer: LagConsumer,
  metrics: Metrics,
  opts: LagMonitorOptions,
): LagMonitor {
  const timeout = opts.timeoutMs ?? 2_000;
  let ok = true;
  let running: Promise<PartitionLag[]> | undefined;
  let stopped = false;
  const shown = new Map<string, { topic: string; partition: string }>();

  const measure = async (): Promise<PartitionLag[]> => {
    const assigned = consumer
      .assignments()
      .map((a) => ({ topic: a.topic, partition: a.partition }));
    if (assigned.length === 0) return [];
    const committed = await callback<TopicPartitionOffsetAndMetadata[]>((cb) =>
      consumer.committed(
        assigned,
        timeout,
        cb as (err: unknown, tps: TopicPartitionOffsetAndMetadata[]) => void,
      ),
    );
    const out: PartitionLag[] = [];
    // One request at a time: three partitions do not need parallelism, a down broker does not
    // need three threads blocked on it.
    for (const tp of assigned) {
      const w = await callback<WatermarkOffsets>((cb) =>
        consumer.queryWatermarkOffsets(
          tp.topic,
          tp.partition,
          timeout,
          cb as (err: unknown, w: WatermarkOffsets) => void,
        ),
      );
      const c =
        committed.find((x) => x.topic === tp.topic && x.partition === tp.partition)?.offset ?? -1;
      const from = c >= 0 ? c : w.lowOffset;
      out.push({ ...tp, high: w.highOffset, committed: c, lag: Math.max(0, w.highOffset - from) });
    }
    return out;
  };

  const publish = (rows: readonly PartitionLag[]): void => {
    const seen = new Set<string>();
    for (const r of rows) {
      const labels = { topic: r.topic, partition: String(r.partition) };
      const id = `${r.topic}\u0000${r.partition}`;
      seen.add(id);
      shown.set(id, labels);
      metrics.consumerLag.set(labels, r.lag);
      metrics.consumerCommitted.set(labels, r.committed);
      metrics.consumerHighWatermark.set(labels, r.high);
    }
    // A partition moved to another instance is that instance's to report.
    for (const [id, labels] of shown) {
      if (seen.has(id)) continue;
      metrics.consumerLag.remove(labels);
      metrics.consumerCommitted.remove(labels);
      metrics.consumerHighWatermark.remove(labels);
      shown.delete(id);
    }
  };

  const poll = (): Promise<PartitionLag[]> => {
    running ??= measure()
      .then((rows) => {
        ok = true;
        publish(rows);
        return rows;
      })
      .catch((err: unknown) => {
        ok = false;
        metrics.lagPollErrors.inc();
        opts.onError?.(err);
        return [];
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => void poll().finally(schedule), opts.intervalMs);
    // The monitor must never be what keeps a draining process alive.
    timer.unref();
  };
  schedule();

  return {
    poll,
    healthy: () => ok,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
