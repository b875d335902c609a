import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type FollowerMetrics = ReturnType<typeof followerMetrics>;

/** The follower's gauges, counters and histograms (docs/scaling.md lists them). */
export function followerMetrics(registry: Registry) {
  const r = { registers: [registry] };
  return {
    lag: new Gauge({
      name: 'recpipe_follower_lag_messages',
      help: 'Messages of partitions other instances own that this instance has not learned yet',
      ...r,
    }),
    staleness: new Gauge({
      name: 'recpipe_follower_staleness_seconds',
      help: 'Wall time minus the log-append time up to which partitions other instances own are learned',
      ...r,
    }),
    served: new Histogram({
      name: 'recpipe_serving_staleness_seconds',
      help: 'Per served batch: its newest append time minus the append time the follower had learned through',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      ...r,
    }),
    learned: new Counter({
      name: 'recpipe_follower_learned_total',
      help: 'Events of partitions other instances own, learned by this instance',
      ...r,
    }),
    followed: new Gauge({
      name: 'recpipe_follower_partitions',
      help: 'Input partitions the follower is reading',
      ...r,
    }),
    hold: new Histogram({
      name: 'recpipe_serving_hold_seconds',
      help: 'Time a batch waited before serving for the follower to be within the staleness bound',
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      ...r,
    }),
    holdTimeouts: new Counter({
      name: 'recpipe_serving_hold_timeouts_total',
      help: 'Batches served although the follower was still beyond the staleness bound',
      ...r,
    }),
    handoff: new Histogram({
      name: 'recpipe_handoff_seconds',
      help: 'Time a partition that moved here waited for its state to be learned up to its first offset',
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60],
      ...r,
    }),
    handoffTimeouts: new Counter({
      name: 'recpipe_handoff_timeouts_total',
      help: 'Partitions taken over before the follower reached their first offset (served partly cold)',
      ...r,
    }),
  };
}

/** Event time the newest learned event is ahead of what every followed partition is learned through. */
export function stalenessSeconds(through: number, newestAnywhere: number): number {
  return through >= newestAnywhere ? 0 : Math.min(newestAnywhere - through, 1e12) / 1000;
}
