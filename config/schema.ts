import { z } from 'zod';
import { port } from './common.js';
import { clickhouseSchema, kafkaSchema, redisSchema } from './connections.js';
import { monitoringSchema, pipelineSchema, scaleSchema } from './pipeline.js';
import { privacySchema } from './privacy.js';
import { pushSchema } from './push.js';
import { rankingSchema, sequenceSchema } from './ranking.js';

/**
 * The whole config; each section's schema lives in the file named after its idea
 * (`connections.ts`, `pipeline.ts`, `push.ts`, `ranking.ts`, `privacy.ts`).
 */
export const configSchema = z
  .object({
    /** Where `stack up` keeps data, logs and pid files of the local services. */
    stateDir: z.string().min(1).default('.state'),
    kafka: kafkaSchema,
    redis: redisSchema,
    clickhouse: clickhouseSchema,
    pipeline: pipelineSchema,
    monitoring: monitoringSchema,
    scale: scaleSchema,
    push: pushSchema,
    ranking: rankingSchema,
    sequence: sequenceSchema,
    /**
     * Caps of per-id state (docs/operations.md, "Bounds"): a producer inventing ids can cost at
     * most this much memory. Users beyond `users` are forgotten least recently seen first (their
     * purchases reload from Redis when they return; the model treats them as new).
     */
    limits: z
      .object({
        /** Users with in-memory state (model profile, purchase history, online evaluation). */
        users: z.number().int().min(1).default(1_000_000),
        /** Items the model learns and the catalog state remembers; beyond it new items are not learned. */
        items: z.number().int().min(1).default(1_000_000),
        /** Purchases kept in memory per user, newest first (Redis `hist:bought` keeps them all). */
        purchasesPerUser: z.number().int().min(1).default(1_000),
        /** Distinct categories and title words the models index; beyond it new ones are ignored. */
        tokens: z.number().int().min(1).default(1_000_000),
      })
      .default({}),
    privacy: privacySchema,
    http: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: port.default(9464),
        /** Per dependency probe of /healthz; a store slower than this counts as down. */
        healthTimeoutMs: z.number().int().min(100).default(2_000),
        /** /healthz answers from a probe at most this old, so polling it cannot flood the stores. */
        healthCacheMs: z.number().int().min(0).default(2_000),
      })
      .default({}),
    logLevel: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      .default('info'),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
