import { createRequire } from 'node:module';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Config } from '../config/schema.js';
import { stderrLog, type SinkLog } from '../sinks/types.js';

type KafkaModule = typeof import('@confluentinc/kafka-javascript');

let loaded: KafkaModule | undefined;

/**
 * The client is a native CommonJS addon; loading it lazily keeps every command that needs no
 * Kafka usable where the addon did not build, and turns the failure into an actionable message.
 */
export function kafkaModule(): KafkaModule {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('@confluentinc/kafka-javascript') as KafkaModule;
    return loaded;
  } catch (err) {
    throw new Error(
      `the Kafka client (@confluentinc/kafka-javascript) is not installed or did not build: ${(err as Error).message}\n` +
        'run `bash scripts/setup.sh` to install its build libraries and rebuild it',
    );
  }
}

/** Adapts the library's KafkaJS-style logger to ours; its default one writes to stdout. */
function kafkaLogger(log: SinkLog): KafkaJS.Logger {
  const self: KafkaJS.Logger = {
    info: (message, extra) => log.info({ ...extra }, message),
    error: (message, extra) => log.error({ ...extra }, message),
    warn: (message, extra) => log.warn({ ...extra }, message),
    debug: (message, extra) => log.debug({ ...extra }, message),
    namespace: () => self,
    // Levels are the SinkLog's business (pino filters by its own level).
    setLogLevel: () => undefined,
  };
  return self;
}

/** A CA or client certificate only makes sense over TLS, so naming one turns TLS on. */
export function kafkaUsesTls(cfg: Config): boolean {
  const t = cfg.kafka.tls;
  return cfg.kafka.ssl || t.caLocation !== '' || t.certLocation !== '' || t.keyLocation !== '';
}

/** The connection part of the config, shared by producers, consumers and admin clients. */
export function kafkaJsConfig(cfg: Config, log: SinkLog = stderrLog): KafkaJS.KafkaConfig {
  const k = cfg.kafka;
  return {
    brokers: k.brokers
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b.length > 0),
    clientId: k.clientId,
    ssl: kafkaUsesTls(cfg),
    ...(k.sasl.mechanism !== 'none' && {
      sasl: { mechanism: k.sasl.mechanism, username: k.sasl.username, password: k.sasl.password },
    }),
    // INFO so connection-level news reaches the SinkLog; it decides what to print.
    logLevel: kafkaModule().KafkaJS.logLevel.INFO,
    logger: kafkaLogger(log),
  };
}

/** The broker refused the configured SASL credentials (or the TLS handshake). */
export class KafkaAuthError extends Error {
  override readonly name = 'KafkaAuthError';
}

const AUTH_FAILURE = /SASL authentication error|Authentication failed|SSL handshake failed/i;

/**
 * librdkafka treats a refused login as transient and retries it until the caller's timeout, so a
 * wrong password would look like a 30 s hang. Its log says what happened at once: this watches
 * the log for it and rejects `failed` with a message naming the settings to fix.
 */
export function watchKafkaAuth(
  cfg: Config,
  log: SinkLog = stderrLog,
): { log: SinkLog; failed: Promise<never>; stop(): void } {
  let reject: ((err: Error) => void) | undefined;
  const failed = new Promise<never>((_, r) => (reject = r));
  // Nobody may be waiting on it (the operation finished first): never an unhandled rejection.
  failed.catch(() => undefined);
  const check = (obj: object, msg: string): void => {
    if (!reject || !AUTH_FAILURE.test(`${msg} ${JSON.stringify(obj)}`)) return;
    const k = cfg.kafka;
    const who =
      k.sasl.mechanism === 'none'
        ? 'the connection (no SASL configured; set kafka.sasl.mechanism)'
        : `the ${k.sasl.mechanism.toUpperCase()} credentials of user "${k.sasl.username}"`;
    reject(
      new KafkaAuthError(
        `Kafka at ${k.brokers} rejected ${who}: ${msg}; set kafka.sasl.username and kafka.sasl.password (env RECPIPE_KAFKA_SASL_USERNAME, RECPIPE_KAFKA_SASL_PASSWORD)`,
      ),
    );
    reject = undefined;
  };
  return {
    failed,
    stop: () => (reject = undefined),
    log: {
      debug: (o, m) => log.debug(o, m),
      info: (o, m) => log.info(o, m),
      warn: (o, m) => {
        check(o, m);
        log.warn(o, m);
      },
      error: (o, m) => {
        check(o, m);
        log.error(o, m);
      },
    },
  };
}

/** A KafkaJS-compatible client for `cfg`; tests use it for consumers. */
export function kafkaClient(cfg: Config, log: SinkLog = stderrLog): KafkaJS.Kafka {
  const { Kafka } = kafkaModule().KafkaJS;
  return new Kafka({
    kafkaJS: kafkaJsConfig(cfg, log),
    'log.connection.close': false,
    // The KafkaJS block only takes `ssl: true`; certificate files are librdkafka properties.
    ...tlsFiles(cfg),
  });
}

function tlsFiles(cfg: Config): Record<string, string> {
  const t = cfg.kafka.tls;
  return {
    ...(t.caLocation && { 'ssl.ca.location': t.caLocation }),
    ...(t.certLocation && { 'ssl.certificate.location': t.certLocation }),
    ...(t.keyLocation && { 'ssl.key.location': t.keyLocation }),
    ...(t.keyPassword && { 'ssl.key.password': t.keyPassword }),
  };
}

export interface OutgoingMessage {
  readonly key?: string;
  /** Bytes are sent as they are (`produce` keeps lines that are not UTF-8 byte for byte). */
  readonly value: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface KafkaProducerSink {
  connect(): Promise<void>;
  /**
   * Resolves once the broker acknowledged every message (acks=all), with the first offset written
   * per partition; rejects if any message failed. The idempotent producer makes internal retries duplicate-free,
   * so a rejected send can be repeated; only the messages it had already written may repeat.
   */
  send(
    topic: string,
    messages: readonly OutgoingMessage[],
  ): Promise<{ partition: number; baseOffset: number }[]>;
  disconnect(): Promise<void>;
}

export interface KafkaProducerOptions {
  log?: SinkLog;
}

export function createKafkaProducerSink(
  cfg: Config,
  opts: KafkaProducerOptions = {},
): KafkaProducerSink {
  const kafka = kafkaClient(cfg, opts.log);
  const producer = kafka.producer({
    kafkaJS: { idempotent: true, acks: -1, allowAutoTopicCreation: false },
    // Small batches of the DLQ and bulk loads of `produce` both benefit from a short linger.
    'linger.ms': 5,
    'compression.type': 'lz4',
  });
  let connected = false;

  return {
    async connect() {
      if (connected) return;
      await producer.connect();
      connected = true;
    },

    async send(topic, messages) {
      if (messages.length === 0) return [];
      if (!connected) throw new Error('Kafka producer: send() before connect()');
      const meta = await producer.send({
        topic,
        messages: messages.map((m) => ({
          key: m.key ?? null,
          value: m.value,
          ...(m.headers && { headers: { ...m.headers } }),
        })),
      });
      const failed = meta.find((r) => r.errorCode !== 0);
      if (failed)
        throw new Error(
          `Kafka rejected a message for ${topic}[${failed.partition}]: code ${failed.errorCode}`,
        );
      return meta.map((r) => ({
        partition: r.partition,
        baseOffset: Number(r.baseOffset ?? r.offset ?? -1),
      }));
    },

    async disconnect() {
      if (!connected) return;
      connected = false;
      // disconnect() flushes outstanding messages first, so nothing acknowledged-pending is lost.
      await producer.disconnect();
    },
  };
}
