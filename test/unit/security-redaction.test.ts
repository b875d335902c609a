import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { commonKafkaConfig } from '../../kafka/rdkafka.js';
import { createLogger } from '../../pipeline/logger.js';
import { kafkaJsConfig } from '../../kafka/client.js';
import { redisSecurityOptions } from '../../sinks/redis.js';
import { configSecrets, redactUrl, redactUrlCredentials } from '../../sinks/security.js';

/** A logger writing into memory, configured exactly as `recpipe run` configures it. */
function capture(secrets: readonly string[]): {
  log: ReturnType<typeof createLogger>;
  lines: () => string;
} {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const log = createLogger('debug', 'test', { secrets, destination: sink });
  return { log, lines: () => out };
}

const env = {
  RECPIPE_REDIS_URL: 'redis://app:s3cr%40t-redis@cache.internal:6379',
  RECPIPE_CLICKHOUSE_URL: 'https://ingest:ch-url-pass@ch.internal:8443',
  RECPIPE_CLICKHOUSE_PASSWORD: 'ch-Pa55word',
  RECPIPE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
  RECPIPE_KAFKA_SASL_USERNAME: 'recpipe',
  RECPIPE_KAFKA_SASL_PASSWORD: 'kafka-"quoted"\\pass',
  RECPIPE_PRIVACY_USER_ID_HASH_KEY: 'hmac-key-123',
};
const cfg = loadConfig(undefined, env);

describe('secrets never reach a log line', () => {
  it('masks passwords inside any URL, wherever it appears', () => {
    expect(redactUrlCredentials('connect redis://app:hunter22@h:6379/0 failed')).toBe(
      'connect redis://app:***@h:6379/0 failed',
    );
    expect(redactUrlCredentials('a https://u:p@x and rediss://:only-pass@y')).toBe(
      'a https://u:***@x and rediss://:***@y',
    );
    expect(redactUrlCredentials('no credentials: http://h:8123/?q=1')).toBe(
      'no credentials: http://h:8123/?q=1',
    );
    expect(redactUrl('redis://u:p%40ss@h:1')).toBe('redis://u:***@h:1');
  });

  it('collects every configured secret, decoded and raw', () => {
    const s = configSecrets(cfg);
    for (const v of [
      's3cr%40t-redis',
      's3cr@t-redis',
      'ch-url-pass',
      'ch-Pa55word',
      'kafka-"quoted"\\pass',
      'hmac-key-123',
    ])
      expect(s).toContain(v);
  });

  it('redacts by field name, by URL and by value, in messages, fields and errors', () => {
    const { log, lines } = capture(configSecrets(cfg));
    log.info({ url: cfg.redis.url }, 'connecting');
    log.info({ clickhouse: { url: cfg.clickhouse.url, password: cfg.clickhouse.password } }, 'ch');
    log.warn({ cfg: { kafka: cfg.kafka } }, 'config');
    log.error(
      { err: `AUTH failed for ${cfg.kafka.sasl.password} at ${cfg.redis.url}` },
      `hash key ${cfg.privacy.userIdHashKey} rejected`,
    );
    log.error(new Error(`could not reach https://ingest:ch-url-pass@ch.internal:8443`), 'boom');
    const text = lines();
    // Redaction must not touch the objects it logged (the clients still need the real secrets).
    expect(cfg.kafka.sasl.password).toBe(env.RECPIPE_KAFKA_SASL_PASSWORD);
    expect(cfg.clickhouse.password).toBe(env.RECPIPE_CLICKHOUSE_PASSWORD);
    for (const secret of configSecrets(cfg))
      expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(text).not.toContain('ch-url-pass');
    expect(text).not.toContain('s3cr');
    // What is not secret stays readable.
    expect(text).toContain('cache.internal:6379');
    expect(text).toContain('app:***@');
    expect(text).toContain('"msg":"connecting"');
    expect(text.trim().split('\n')).toHaveLength(5);
    for (const line of text.trim().split('\n'))
      expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});

describe('connection security settings reach the clients', () => {
  it('Kafka: SASL/SCRAM over TLS with a CA file, from env alone', () => {
    const c = loadConfig(undefined, {
      ...env,
      RECPIPE_KAFKA_TLS_CA_LOCATION: '/etc/ssl/kafka-ca.pem',
    });
    const rd = commonKafkaConfig(c);
    expect(rd).toMatchObject({
      'security.protocol': 'sasl_ssl',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'recpipe',
      'ssl.ca.location': '/etc/ssl/kafka-ca.pem',
    });
    expect(kafkaJsConfig(c)).toMatchObject({ ssl: true, sasl: { mechanism: 'scram-sha-512' } });
    const plain = commonKafkaConfig(loadConfig(undefined, {}));
    expect(plain['security.protocol']).toBeUndefined();
    expect(
      commonKafkaConfig(loadConfig(undefined, { RECPIPE_KAFKA_SASL_MECHANISM: 'plain' })),
    ).toMatchObject({
      'security.protocol': 'sasl_plaintext',
    });
  });

  it('Redis: explicit credentials win over the URL; rediss:// turns TLS on', () => {
    const c = loadConfig(undefined, {
      RECPIPE_REDIS_URL: 'rediss://cache:6380',
      RECPIPE_REDIS_USERNAME: 'svc',
      RECPIPE_REDIS_PASSWORD: 'pw',
    });
    expect(redisSecurityOptions(c)).toEqual({ username: 'svc', password: 'pw', tls: {} });
    expect(redisSecurityOptions(loadConfig(undefined, {}))).toEqual({});
    expect(() =>
      redisSecurityOptions(
        loadConfig(undefined, { RECPIPE_REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' }),
      ),
    ).toThrow(/redis\.tls\.caFile/);
  });
});
