import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Config } from '../config/schema.js';
import { kafkaClient, watchKafkaAuth } from './client.js';
import type { SinkLog } from '../sinks/types.js';

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** Default: the broker's default.replication.factor. */
  readonly replicationFactor?: number;
  /** Topic-level configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  readonly config?: Readonly<Record<string, string>>;
}

export interface PartitionOffsets {
  readonly partition: number;
  /** The next offset to be written (the log end). */
  readonly high: number;
  /** The earliest offset still on the broker. */
  readonly low: number;
}

export interface CommittedOffset {
  readonly partition: number;
  /** The next offset the group will read; -1 when the group has committed nothing there. */
  readonly offset: number;
}

/**
 * Connects the client `make` builds, runs `fn` on it and disconnects; a refused login rejects at
 * once with a KafkaAuthError naming the settings instead of hanging until the timeout.
 */
async function withClient<C extends { connect(): Promise<void>; disconnect(): Promise<void> }, T>(
  cfg: Config,
  log: SinkLog | undefined,
  make: (kafka: KafkaJS.Kafka) => C,
  fn: (client: C) => Promise<T>,
): Promise<T> {
  const auth = watchKafkaAuth(cfg, log);
  const client = make(kafkaClient(cfg, auth.log));
  const connecting = client.connect();
  try {
    await Promise.race([connecting, auth.failed]);
  } catch (err) {
    auth.stop();
    // Disconnecting a client whose connect() is still pending or failed kills the process
    // (native abort): let a refused login finish on its own instead.
    connecting.then(() => client.disconnect()).catch(() => undefined);
    throw err;
  }
  try {
    return await Promise.race([fn(client), auth.failed]);
  } finally {
    auth.stop();
    await client.disconnect();
  }
}

const withAdmin = <T>(
  cfg: Config,
  log: SinkLog | undefined,
  fn: (admin: KafkaJS.Admin) => Promise<T>,
): Promise<T> => withClient(cfg, log, (kafka) => kafka.admin(), fn);

const ALREADY_EXISTS = 36; // Kafka protocol error TOPIC_ALREADY_EXISTS

/**
 * Creates the topics that do not exist yet; existing ones are left alone (even with another
 * partition count: repartitioning would move users between instances). Safe to run concurrently.
 */
export async function ensureTopics(
  cfg: Config,
  topics: readonly TopicSpec[],
  opts: { log?: SinkLog; timeoutMs?: number } = {},
): Promise<{ created: string[]; existing: string[] }> {
  const timeout = opts.timeoutMs ?? 30_000;
  return withAdmin(cfg, opts.log, async (admin) => {
    const present = new Set(await admin.listTopics({ timeout }));
    const missing = topics.filter((t) => !present.has(t.name));
    const existing = topics.filter((t) => present.has(t.name)).map((t) => t.name);
    const created: string[] = [];
    for (const t of missing) {
      try {
        await admin.createTopics({
          timeout,
          topics: [
            {
              topic: t.name,
              numPartitions: t.partitions,
              replicationFactor: t.replicationFactor ?? -1,
              ...(t.config && {
                configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
              }),
            },
          ],
        });
        created.push(t.name);
      } catch (err) {
        // Someone else created it between our list and create: that is the outcome we wanted.
        if (isAlreadyExists(err)) existing.push(t.name);
        else
          throw new Error(`cannot create Kafka topic ${t.name}: ${(err as Error).message}`, {
            cause: err,
          });
      }
    }
    if (created.length > 0) await waitForLeaders(admin, created, timeout);
    return { created, existing };
  });
}

function isAlreadyExists(err: unknown): boolean {
  const e = err as { code?: number; type?: string; message?: string; errors?: unknown[] };
  if (e.code === ALREADY_EXISTS || e.type === 'TOPIC_ALREADY_EXISTS') return true;
  if (/already exists/i.test(e.message ?? '')) return true;
  return Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(isAlreadyExists);
}

/** A produce right after CreateTopics can race the leader election; wait until it is over. */
async function waitForLeaders(
  admin: KafkaJS.Admin,
  topics: string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics, timeout: Math.min(5_000, timeoutMs) });
      if (
        meta.length === topics.length &&
        meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
      ) {
        return;
      }
    } catch {
      // Unknown-topic errors right after creation are expected; retry until the deadline.
    }
    if (Date.now() > deadline)
      throw new Error(`Kafka topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Log start and end per partition, sorted by partition. */
export async function endOffsets(
  cfg: Config,
  topic: string,
  opts: { log?: SinkLog } = {},
): Promise<PartitionOffsets[]> {
  return withAdmin(cfg, opts.log, async (admin) => {
    const rows = await admin.fetchTopicOffsets(topic);
    return rows
      .map((r) => ({ partition: r.partition, high: Number(r.high), low: Number(r.low) }))
      .sort((a, b) => a.partition - b.partition);
  });
}

/**
 * The group's committed offsets for `topic`, one per partition, sorted by partition.
 *
 * Asked through a consumer of that group (which never subscribes, so it never joins or disturbs
 * the group), not through the admin API: librdkafka's admin ListConsumerGroupOffsets dereferences
 * a missing consumer-group handle when the coordinator answers NOT_COORDINATOR (a group it has
 * not seen yet, a broker still loading its offsets) and the whole process dies with SIGSEGV
 * (confluentinc/librdkafka#5040). A consumer has that handle and simply retries.
 */
export async function committedOffsets(
  cfg: Config,
  group: string,
  topic: string,
  opts: { log?: SinkLog; timeoutMs?: number } = {},
): Promise<CommittedOffset[]> {
  const partitions = (await endOffsets(cfg, topic, opts)).map((e) => e.partition);
  if (partitions.length === 0) return [];
  const rows = await withClient(
    cfg,
    opts.log,
    (kafka) => kafka.consumer({ kafkaJS: { groupId: group } }),
    (reader) =>
      committedWithRetry(
        reader,
        partitions.map((partition) => ({ topic, partition })),
        opts.timeoutMs ?? 30_000,
      ),
  );
  return (
    rows
      // The client reports "no commit" as a null offset (and, indistinguishably, a commit of 0,
      // which a consumer that read anything never makes).
      .map((r) => ({ partition: r.partition, offset: r.offset === null ? -1 : Number(r.offset) }))
      .sort((a, b) => a.partition - b.partition)
  );
}

/** Kafka protocol errors that mean "the group's coordinator is moving or loading: ask again". */
const COORDINATOR_BUSY = new Set([14, 15, 16]);

async function committedWithRetry(
  reader: KafkaJS.Consumer,
  partitions: KafkaJS.TopicPartition[],
  timeoutMs: number,
): Promise<KafkaJS.TopicPartitionOffsetAndMetadata[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await reader.committed(partitions, Math.max(1, deadline - Date.now()));
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === undefined || !COORDINATOR_BUSY.has(code) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Messages of `topic` the group has not committed yet. A partition without a commit counts from
 * its log start, matching the contract's "no committed offsets starts from the earliest".
 */
export async function consumerLag(
  cfg: Config,
  group: string,
  topic: string,
  opts: { log?: SinkLog } = {},
): Promise<number> {
  const [ends, committed] = await Promise.all([
    endOffsets(cfg, topic, opts),
    committedOffsets(cfg, group, topic, opts),
  ]);
  const byPartition = new Map(committed.map((c) => [c.partition, c.offset]));
  let lag = 0;
  for (const e of ends) {
    const c = byPartition.get(e.partition) ?? -1;
    lag += Math.max(0, e.high - (c >= 0 ? c : e.low));
  }
  return lag;
}

/** Deletes the topics whose names start with `prefix` (benchmarks' own topics); returns them. */
export async function deleteTopicsWithPrefix(
  cfg: Config,
  prefix: string,
  opts: { log?: SinkLog } = {},
): Promise<string[]> {
  if (prefix === '') throw new Error('refusing to delete every topic');
  return withAdmin(cfg, opts.log, async (admin) => {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    return topics;
  });
}
