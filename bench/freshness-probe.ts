/**
 * Freshness measured from outside the job: marker events go to the input topic through a
 * producer of their own (kcat, an independent Kafka client, when installed; otherwise a separate
 * librdkafka producer in this process), and a Redis connection of its own polls each marker
 * user's `rec:{user}:meta` until its `event_ts` shows the marker. Latency = from just before the
 * marker was handed to the producer to the first poll that sees it. None of the job's own
 * metrics are involved.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { createKafkaProducerSink, type KafkaProducerSink } from '../kafka/client.js';
import { redisKeys } from '../sinks/redis.js';

export interface ProbeStats {
  readonly client: 'kcat' | 'librdkafka';
  readonly sent: number;
  readonly seen: number;
  readonly missing: number;
  readonly p50_ms: number;
  readonly p90_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
}

interface Pending {
  readonly user: string;
  readonly ts: number;
  readonly sentAt: number;
  /** When this marker is polled next (see pollDelayMs). */
  nextPollAt: number;
}

const POLL_MS = 5;
/** A marker is polled again after this share of its age: its latency is read within 2 %. */
const POLL_AGE_SHARE = 0.02;
const GIVE_UP_MS = 60_000;

/**
 * How long until a marker of this age is polled again: every POLL_MS while young, then after
 * POLL_AGE_SHARE of its age. Polling every marker every 5 ms made the probe's cost grow with the
 * job's lag: with the job behind, 240 markers (4/s for the 60 s give-up) were read about 100
 * times a second, tens of thousands of HGETs/s that took Redis and this process's CPU from the
 * job it measures on a 2-core host (the load generator's CPU rose from 16 % to 36 % of a core
 * in three minutes). With the share, those 240 markers cost about 1,400 reads a second, not 48,000.
 */
export function pollDelayMs(ageMs: number): number {
  return Math.max(POLL_MS, Math.floor(ageMs * POLL_AGE_SHARE));
}

export class FreshnessProbe {
  private readonly redis: Redis;
  private readonly keys: ReturnType<typeof redisKeys>;
  private kcat: ChildProcessWithoutNullStreams | undefined;
  private producer: KafkaProducerSink | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly latencies: number[] = [];
  private sent = 0;
  private missing = 0;
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly cfg: Config,
    private readonly opts: { readonly itemCount: number; readonly users?: number } = {
      itemCount: 1000,
    },
  ) {
    this.redis = new Redis(cfg.redis.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    this.keys = redisKeys(cfg.redis.prefix);
  }

  get client(): 'kcat' | 'librdkafka' {
    return this.kcat ? 'kcat' : 'librdkafka';
  }

  async start(): Promise<void> {
    await this.redis.connect();
    const has = spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0;
    if (has) {
      // -K: key and value on one line; -z none: a marker is sent as soon as it is read
      this.kcat = spawn(
        'kcat',
        [
          '-P',
          '-b',
          this.cfg.kafka.brokers,
          '-t',
          this.cfg.kafka.inputTopic,
          '-K',
          '\t',
          '-X',
          'linger.ms=0',
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      this.kcat.stderr.on('data', () => undefined);
    } else {
      this.producer = createKafkaProducerSink(this.cfg);
      await this.producer.connect();
    }
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  /** Sends one marker event for a user of its own (so no other event can show its event_ts). */
  async mark(): Promise<void> {
    const users = this.opts.users ?? 2_000;
    const user = `probe-${this.next % users}`;
    const n = this.next++;
    if (this.pendingFor(user)) return;
    const ts = Date.now();
    const value = JSON.stringify({
      event_id: `probe-${ts}-${n}`,
      ts,
      user_id: user,
      item_id: `i${n % Math.max(1, this.opts.itemCount)}`,
      type: 'view',
    });
    const sentAt = Date.now();
    this.pending.set(user, { user, ts, sentAt, nextPollAt: sentAt + POLL_MS });
    this.sent++;
    if (this.kcat) this.kcat.stdin.write(`${user}\t${value}\n`);
    else await this.producer?.send(this.cfg.kafka.inputTopic, [{ key: user, value }]);
  }

  private pendingFor(user: string): boolean {
    return this.pending.has(user);
  }

  private async poll(): Promise<void> {
    if (this.polling || this.pending.size === 0) return;
    this.polling = true;
    try {
      const due = Date.now();
      const list: Pending[] = [];
      for (const m of this.pending.values()) if (m.nextPollAt <= due) list.push(m);
      if (list.length === 0) return;
      const p = this.redis.pipeline();
      for (const m of list) p.hget(this.keys.recMeta(m.user), 'event_ts');
      const res = (await p.exec()) ?? [];
      const now = Date.now();
      list.forEach((m, i) => {
        const v = Number(res[i]?.[1] ?? NaN);
        if (v >= m.ts) {
          this.latencies.push(now - m.sentAt);
          this.pending.delete(m.user);
        } else if (now - m.sentAt > GIVE_UP_MS) {
          this.missing++;
          this.pending.delete(m.user);
        } else {
          m.nextPollAt = now + pollDelayMs(now - m.sentAt);
        }
      });
    } finally {
      this.polling = false;
    }
  }

  /** Waits for the markers in flight (at most `ms`), then reports. */
  async finish(ms = 10_000): Promise<ProbeStats> {
    const until = Date.now() + ms;
    while (this.pending.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    this.missing += this.pending.size;
    this.pending.clear();
    if (this.timer) clearInterval(this.timer);
    this.kcat?.stdin.end();
    await this.producer?.disconnect();
    this.redis.disconnect();
    return this.stats();
  }

  stats(): ProbeStats {
    const xs = [...this.latencies].sort((a, b) => a - b);
    const q = (p: number): number =>
      xs.length === 0 ? NaN : (xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] as number);
    return {
      client: this.client,
      sent: this.sent,
      seen: xs.length,
      missing: this.missing,
      p50_ms: q(0.5),
      p90_ms: q(0.9),
      p99_ms: q(0.99),
      max_ms: xs.length === 0 ? NaN : (xs[xs.length - 1] as number),
    };
  }
}
