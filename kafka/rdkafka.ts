import { createRequire } from 'node:module';
import type { Config } from '../config/schema.js';
import { kafkaUsesTls } from './client.js';

type RdKafkaModule = typeof import('@confluentinc/kafka-javascript');
export type {
  KafkaConsumer,
  Producer,
  LibrdKafkaError,
  Message,
} from '@confluentinc/kafka-javascript';

/**
 * Rebalancing calls the bundled typings leave out; the native client has
 * them (lib/kafka-consumer.js). Cast a KafkaConsumer with `cooperative()` to reach them.
 */
export interface CooperativeCalls {
  incrementalAssign(partitions: { topic: string; partition: number; offset?: number }[]): unknown;
  incrementalUnassign(partitions: { topic: string; partition: number }[]): unknown;
  /** Inside a revoke: whether the group already gave the partitions to another member. */
  assignmentLost(): boolean;
  /** `COOPERATIVE`, `EAGER`, or `NONE` before joining and while closing. */
  rebalanceProtocol(): string;
}

/**
 * Consume settings the bundled typings leave out (lib/kafka-consumer.js). With
 * `setDefaultIsTimeoutOnlyForFirstMessage(true)`, `consume(n)` waits the consume timeout for the
 * first message only and then takes what is already fetched; by default it waits the timeout
 * again for every further message, so a steady stream fills the whole batch before it returns.
 */
export interface ConsumeCalls {
  setDefaultIsTimeoutOnlyForFirstMessage(onlyFirst: boolean): void;
}

export function consumeCalls(
  consumer: import('@confluentinc/kafka-javascript').KafkaConsumer,
): ConsumeCalls {
  return consumer as unknown as ConsumeCalls;
}

export function cooperative(
  consumer: import('@confluentinc/kafka-javascript').KafkaConsumer,
): CooperativeCalls {
  return consumer as unknown as CooperativeCalls;
}

let loaded: RdKafkaModule | undefined;

/**
 * The client is a native CommonJS module built at install time; load it lazily so commands that
 * need no Kafka (replay) work even where it failed to build, and say how to fix it when missing.
 */
export function rdkafka(): RdKafkaModule {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('@confluentinc/kafka-javascript') as RdKafkaModule;
    return loaded;
  } catch (err) {
    throw new Error(
      `the Kafka client (@confluentinc/kafka-javascript) is not installed or did not build: ${(err as Error).message}\n` +
        'run `bash scripts/setup.sh` (installs the build libraries and rebuilds it with CKJS_LINKING=dynamic)',
    );
  }
}

/** librdkafka settings shared by consumers, producers and admin clients (connection + security). */
export function commonKafkaConfig(cfg: Config): Record<string, string | number | boolean> {
  const k = cfg.kafka;
  const out: Record<string, string | number | boolean> = {
    'bootstrap.servers': k.brokers,
    'client.id': k.clientId,
    'log.connection.close': false,
  };
  const tls = kafkaUsesTls(cfg);
  const sasl = k.sasl.mechanism !== 'none';
  if (sasl) {
    out['sasl.mechanisms'] = k.sasl.mechanism.toUpperCase();
    out['sasl.username'] = k.sasl.username;
    out['sasl.password'] = k.sasl.password;
  }
  if (sasl || tls) out['security.protocol'] = `${sasl ? 'sasl_' : ''}${tls ? 'ssl' : 'plaintext'}`;
  if (k.tls.caLocation) out['ssl.ca.location'] = k.tls.caLocation;
  if (k.tls.certLocation) out['ssl.certificate.location'] = k.tls.certLocation;
  if (k.tls.keyLocation) out['ssl.key.location'] = k.tls.keyLocation;
  if (k.tls.keyPassword) out['ssl.key.password'] = k.tls.keyPassword;
  return out;
}

/** Adapts librdkafka's callback style to promises, keeping its error object (code, isFatal...). */
export function callback<T = unknown>(
  fn: (cb: (err: unknown, value?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, value) =>
      err ? reject(err instanceof Error ? err : toError(err)) : resolve(value as T),
    );
  });
}

/**
 * `p`, or an error once `ms` have passed. For the native calls of a read that must end (a
 * restore awaited before processing goes on): their own timeouts only count once the call runs,
 * and a call that never calls back would otherwise hold the job silently.
 */
export function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function toError(err: unknown): Error {
  const e = err as { message?: string; code?: number };
  const out = new Error(e.message ?? String(err)) as Error & { code?: number };
  if (e.code !== undefined) out.code = e.code;
  return out;
}
