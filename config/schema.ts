import { z } from 'zod';

const port = z.number().int().min(0).max(65535);

export const configSchema = z
  .object({
    /** Where `stack up` keeps data, logs and pid files of the local services. */
    stateDir: z.string().min(1).default('.state'),
    kafka: z
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
        dlqTopic: z.string().min(1).default('recpipe-dlq'),
        partitions: z.number().int().min(1).default(3),
        sasl: z
          .object({
            mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
            username: z.string(),
            password: z.string(),
          })
          .optional(),
        ssl: z.boolean().default(false),
      })
      .default({}),
    redis: z
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
      })
      .default({}),
    clickhouse: z
      .object({
        url: z.string().min(1).default('http://127.0.0.1:18123'),
        nativePort: port.default(19000),
        database: z.string().min(1).default('recpipe'),
        username: z.string().default('default'),
        password: z.string().default(''),
      })
      .default({}),
    pipeline: z
      .object({
        batchMaxMessages: z.number().int().min(1).default(500),
        batchMaxMs: z.number().int().min(1).default(50),
        /** Batches in flight between source and commit; the backpressure bound. */
        maxInFlightBatches: z.number().int().min(1).default(4),
        dedupeCapacity: z.number().int().min(1).default(1_000_000),
        topK: z.number().int().min(1).max(1000).default(20),
        model: z.string().default('default'),
      })
      .default({}),
    http: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: port.default(9464),
      })
      .default({}),
    logLevel: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      .default('info'),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
