import type { Config } from '../../config/schema.js';
import type { FeatureStore } from '../../features/feature-store.js';
import type { CommitPoint, DeadLetter, FeatureSet, GraphBatch } from '../../operators/types.js';
import { encodeAnalytics, type AnalyticsText } from '../../sinks/clickhouse-rows.js';
import type { PushClaims } from '../../sinks/redis-push-policy.js';
import type { PushDecision, PushMessage } from '../../push/types.js';
import { deadLetterMessage } from '../../sinks/types.js';
import { yieldToEventLoop } from './event-loop.js';
import type { KafkaConsumerSource } from '../../kafka/consumer-source.js';
import type { OutMessage, TransactionalProducer } from '../../kafka/transactional-producer.js';
import type { Logger } from '../logger.js';
import { summarizeBatch, type BatchSummary, type Metrics } from '../metrics.js';
import type { BatchGate } from './batch-gate.js';
import type { DeliveryStages } from './delivery.js';
import type { OutboxKey } from './push-outbox.js';
import type { PushDurability } from './push-durability.js';
import type { AnalyticsWriter, ServingWriter } from './sink-writers.js';

/** Keys whose changed feature windows are taken in one turn (about 50-100 ms in a soak). */
const KEYS_PER_TURN = 1_000;
/** Up to this many keys a take is done at once, without the batch gate. */
const KEYS_AT_ONCE = 4_000;

/** A processed batch of `run`, with the changelog records of the state it changed. */
export type RunBatch = GraphBatch & { readonly stateChanges?: readonly OutMessage[] };

/**
 * What the analytics and commit stages keep of a served batch: text and numbers, so the batch's
 * records die young (see encodeAnalytics) while it waits up to a second for its analytics write.
 */
export interface ServedBatch {
  readonly seq: number;
  readonly messages: number;
  readonly commits: readonly CommitPoint[];
  /**
   * Kafka messages of the commit transaction: dead letters, then push messages, then the rows a
   * store refused while this batch's group was stored (appended by the store stage).
   */
  readonly out: OutMessage[];
  readonly text: AnalyticsText;
  /** Session closes; the other feature values are built per analytics write. */
  readonly features: readonly FeatureSet[];
  readonly summary: BatchSummary;
  /** The push outbox entries of its sent messages, settled after the commit. */
  readonly outboxKeys: readonly OutboxKey[];
}

export interface StageDependencies {
  readonly cfg: Config;
  readonly metrics: Metrics;
  readonly log: Pick<Logger, 'warn'>;
  /** Redis: lists and purchases. */
  readonly serving: ServingWriter;
  /** ClickHouse and Redis's feature hashes: the analytics record. */
  readonly analytics: AnalyticsWriter;
  /** Whose changed windows each analytics write takes (FeatureStore.takeChangedParts). */
  readonly features: FeatureStore;
  /** Held while a large take reads those windows in parts: no batch may ingest between parts. */
  readonly gate: Pick<BatchGate, 'enter' | 'leave'>;
  readonly claims: PushClaims | undefined;
  /**
   * Push exactly-once across crashes and the state changelog (push-durability.ts): the outbox
   * of claims, which changelog records may still be committed, and their compaction per commit.
   */
  readonly durable?: Pick<PushDurability, 'outbox' | 'mayCommit' | 'compact'>;
  readonly producer: TransactionalProducer;
  readonly source: KafkaConsumerSource;
  /** Retries `fn` until it succeeds, or throws once the drain deadline has passed. */
  readonly retry: <T>(what: string, fn: () => Promise<T>) => Promise<T>;
  readonly onKafkaHealth: (healthy: boolean) => void;
}

/**
 * One claim's answer for several batches (their pushes concatenated in batch order) given back
 * to each batch, walking the input in step with the answer: a push is kept as it was, suppressed
 * under its key when it lost the claim, or gone when it had been committed before
 * (PushClaims.claim, push-outbox.ts).
 */
export function backToBatches<B extends GraphBatch>(
  batches: readonly B[],
  final: { readonly decisions: readonly PushDecision[]; readonly messages: readonly PushMessage[] },
): B[] {
  const kept = new Set(final.messages.map((m) => m.idempotencyKey));
  let j = 0;
  return batches.map((b) => {
    const own: PushDecision[] = [];
    for (const p of b.pushes ?? []) {
      const f = final.decisions[j];
      if (
        f !== undefined &&
        (f === p || (p.decision === 'sent' && f.idempotencyKey === p.idempotencyKey))
      ) {
        own.push(f);
        j++;
      }
    }
    if (!(b.pushes ?? []).some((p) => p.decision === 'sent')) return b;
    const sent = (b.pushMessages ?? []).filter((m) => kept.has(m.idempotencyKey));
    return { ...b, pushes: own, pushMessages: sent };
  });
}

/** The concrete stages of `run` (see DeliveryStages): Redis, then ClickHouse, then Kafka. */
export function runStages(d: StageDependencies): DeliveryStages<RunBatch, ServedBatch> {
  const timed = async <T>(name: string, write: () => Promise<T>): Promise<T> =>
    d.retry(name, async () => {
      const end = d.metrics.sinkSeconds.startTimer({ sink: name });
      const result = await write();
      end();
      return result;
    });

  // Claimed before any sink sees the batch, so ClickHouse stores the final decisions. With the
  // outbox a claim of ours whose message was not committed (a crash) succeeds again and is sent
  // with the same key; one already committed is dropped (push-outbox.ts). All batches of a serve
  // call in one claim, in batch order: a round trip per batch cost a turn of a busy event loop.
  const claimPushes = async (
    inputs: readonly GraphBatch[],
  ): Promise<{ batches: GraphBatch[]; keys: (readonly OutboxKey[])[] }> => {
    const { claims } = d;
    const outbox = d.durable?.outbox;
    const batches = inputs.map((input) => {
      outbox?.observe(input);
      return outbox ? outbox.withRecovered(input) : input;
    });
    const none = (): (readonly OutboxKey[])[] => batches.map(() => []);
    if (!claims) return { batches, keys: none() };
    const pushes: PushDecision[] = [];
    const messages: PushMessage[] = [];
    for (const b of batches) {
      for (const p of b.pushes ?? []) pushes.push(p);
      for (const m of b.pushMessages ?? []) messages.push(m);
    }
    if (!pushes.some((p) => p.decision === 'sent')) return { batches, keys: none() };
    const final = await d.retry('redis-push-claims', () =>
      outbox && claims.claimWithOutbox
        ? claims.claimWithOutbox(pushes, messages, outbox.partitionOf)
        : claims.claim(pushes, messages),
    );
    const out = backToBatches(batches, final);
    return {
      batches: out,
      keys: out.map((b) => (outbox ? outbox.keysOf(b.pushMessages ?? []) : [])),
    };
  };

  const letter = (dl: DeadLetter): OutMessage => ({
    topic: d.cfg.kafka.dlqTopic,
    ...deadLetterMessage(dl),
  });

  const refusedRows = (letters: readonly DeadLetter[]): void => {
    if (letters.length > 0)
      d.log.warn(
        { rows: letters.length, reason: letters[0]?.reason },
        'rows refused by a store: dead-lettered',
      );
  };

  const served = (
    b: GraphBatch,
    now: number,
    outboxKeys: readonly OutboxKey[],
    state: readonly OutMessage[],
  ): ServedBatch => {
    const out: OutMessage[] = [];
    for (const dl of b.deadLetters) out.push(letter(dl));
    for (const m of b.pushMessages ?? [])
      out.push({ topic: d.cfg.kafka.pushTopic, key: m.key, value: m.value, headers: m.headers });
    for (const m of state) out.push(m);
    return {
      seq: b.seq,
      messages: b.messages,
      commits: b.commits,
      out,
      text: encodeAnalytics(b, now),
      features: b.features,
      summary: summarizeBatch(b),
      outboxKeys,
    };
  };

  return {
    serve: async (batches) => {
      const { batches: claimed, keys } = await claimPushes(batches);
      const refused = await timed(d.serving.name, () => d.serving.write(claimed));
      refusedRows(refused);
      // Rows Redis refused are dead letters of the group's last batch, which then commits.
      const last = claimed.length - 1;
      if (refused.length > 0 && last >= 0) {
        const b = claimed[last] as GraphBatch;
        claimed[last] = { ...b, deadLetters: [...b.deadLetters, ...refused] };
      }
      const now = Date.now();
      // A batch's analytics text per turn: a group served together can be several backlog batches.
      const out: ServedBatch[] = [];
      for (let i = 0; i < claimed.length; i++) {
        if (i > 0) await yieldToEventLoop();
        const b = claimed[i] as GraphBatch;
        out.push(served(b, now, keys[i] ?? [], batches[i]?.stateChanges ?? []));
      }
      return out;
    },

    store: async (group) => {
      // Built now, once per touched key, from the live store: values as of the newest batch
      // processed, which a crash replays and rewrites the same way.
      const features: FeatureSet[] = [];
      for (const s of group) for (const f of s.features) features.push(f);
      // A live stream's take is small: at once, as batches flow (holding them for a take in
      // parts cost 1,000 events/s a p90 of 200 ms). A backlog's is a long stretch of work: in
      // parts, a turn each, holding the batch gate, as takeChangedParts requires (when batches
      // could go on between parts they cost a drain 15-30 % more CPU: keys read twice, early
      // reads).
      if (d.features.pendingKeys <= KEYS_AT_ONCE) {
        for (const f of d.features.takeChanged()) features.push(f);
      } else {
        await d.gate.enter();
        try {
          for (const part of d.features.takeChangedParts(KEYS_PER_TURN)) {
            for (const f of part) features.push(f);
            await yieldToEventLoop();
          }
        } finally {
          d.gate.leave();
        }
      }
      await yieldToEventLoop();
      const refused = await timed(d.analytics.name, () => d.analytics.write(group, features));
      if (refused.length === 0) return;
      refusedRows(refused);
      await timed(d.analytics.name, () => d.analytics.writeDeadLetters(refused));
      const last = group[group.length - 1];
      for (const dl of refused) last?.out.push(letter(dl));
    },

    commit: async (group) => {
      const out: OutMessage[] = [];
      const next = new Map<string, CommitPoint>();
      for (const s of group) {
        for (const m of s.out) if (d.durable?.mayCommit(m) ?? true) out.push(m);
        for (const c of s.commits) next.set(`${c.topic}\u0000${c.partition}`, c);
      }
      const messages = d.durable ? d.durable.compact(out) : out;
      await d.retry('kafka-commit', async () => {
        try {
          // A partition lost to another member is theirs to commit now.
          const commits = [...next.values()].filter((c) => d.source.owns(c.topic, c.partition));
          await d.producer.commit(messages, commits, d.source.consumer);
          d.onKafkaHealth(true);
        } catch (err) {
          d.onKafkaHealth(false);
          throw err;
        }
      });
    },
  };
}
