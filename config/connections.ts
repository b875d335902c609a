import { z } from 'zod';
import { port } from './common.js';

// Config `kafka`, `redis`, `clickhouse`: where the stores are and how to authenticate.

/** A TLS connection's CA file, and the client certificate and key for mutual TLS. */
const tlsFiles = z
  .object({
    caFile: z.string().default(''),
    certFile: z.string().default(''),
    keyFile: z.string().default(''),
  })
  .default({});

/** Config `kafka`: brokers, topics, SASL and TLS. */
export const kafkaSchema = z
  .object({
    brokers: z.string().min(1).default('127.0.0.1:19092'),
    controllerPort: port.default(19093),
    clientId: z.string().default('recpipe'),
    /** Distinguishes instances of one group (transactional.id); unique per running process. */
    instanceId: z.string().min(1).default('0'),
    groupId: z.string().min(1).default('recpipe'),
    inputTopic: z.string().min(1).default('clickstream'),
    itemsTopic: z.string().min(1).default('items'),
    pushTopic: z.string().min(1).default('push-notifications'),
    /** Consent, time zone and locale per user (CONTRACT §5); the latest message per user wins. */
    preferencesTopic: z.string().min(1).default('preferences'),
    dlqTopic: z.string().min(1).default('recpipe-dlq'),
    partitions: z.number().int().min(1).default(3),
    /**
     * SASL authentication; `none` (the default) connects without it. Every field has a default
     * so RECPIPE_KAFKA_SASL_PASSWORD etc. can carry the secret instead of the config file.
     */
    sasl: z
      .object({
        mechanism: z.enum(['none', 'plain', 'scram-sha-256', 'scram-sha-512']).default('none'),
        username: z.string().default(''),
        password: z.string().default(''),
      })
      .default({}),
    /** TLS to the brokers; also turned on by any of the `tls` files below. */
    ssl: z.boolean().default(false),
    tls: z
      .object({
        /** PEM file of the CA that signed the brokers' certificates (default: system CAs). */
        caLocation: z.string().default(''),
        /** Client certificate and key, for brokers that require mutual TLS. */
        certLocation: z.string().default(''),
        keyLocation: z.string().default(''),
        keyPassword: z.string().default(''),
      })
      .default({}),
  })
  .default({});

/** Config `redis`: the serving store. */
export const redisSchema = z
  .object({
    url: z.string().min(1).default('redis://127.0.0.1:16379'),
    prefix: z.string().default('recpipe:'),
    /** TTL of every key we write, seconds. */
    ttlSeconds: z
      .number()
      .int()
      .min(1)
      .default(7 * 24 * 3600),
    historyTtlSeconds: z
      .number()
      .int()
      .min(1)
      .default(90 * 24 * 3600),
    /**
     * ACL user and password; when set they replace the ones in `url`, so the secret can come
     * from RECPIPE_REDIS_PASSWORD instead of a URL that may end up in a shell history.
     */
    username: z.string().default(''),
    password: z.string().default(''),
    /** TLS (also implied by a `rediss://` url): CA file, optional client certificate and key. */
    tls: tlsFiles,
  })
  .default({});

/** Config `clickhouse`: the analytics store. */
export const clickhouseSchema = z
  .object({
    url: z.string().min(1).default('http://127.0.0.1:18123'),
    nativePort: port.default(19000),
    database: z.string().min(1).default('recpipe'),
    username: z.string().default('default'),
    password: z.string().default(''),
    /** For an `https://` url: CA file, optional client certificate and key (mutual TLS). */
    tls: tlsFiles,
  })
  .default({});
