import { z } from 'zod';

const days = (d: number) => z.number().int().min(0).default(d);

/** Config `privacy`: pseudonyms, erasure (docs/privacy.md) and retention. */
export const privacySchema = z
  .object({
    /**
     * When set, user ids are replaced by HMAC-SHA256(key, user_id) right after parsing, so no
     * store or topic downstream of the job holds a raw id. Changing the key splits every user.
     */
    userIdHashKey: z.string().default(''),
    /**
     * Key of the pseudonym the erasure audit (ClickHouse `erasures`) and the erasure log (Redis)
     * store instead of the id. Empty: `userIdHashKey`, else a fixed public salt, which stops
     * casual reading but not someone who can guess ids: set it in production.
     */
    auditKey: z.string().default(''),
    /** Erasure requests `{user_id, ts, request_id}` that `run` consumes (CONTRACT §5). */
    topic: z.string().min(1).default('privacy'),
    /** How long an erasure waits for ClickHouse's DELETE mutations to finish. */
    mutationTimeoutMs: z.number().int().min(1_000).default(50_000),
    /**
     * ClickHouse retention (docs/privacy.md, "Retention"): rows older than this many days are
     * deleted by `run` every `intervalMs` (0 days: kept). A periodic `ALTER TABLE … DELETE`,
     * because 18.16 has no table TTL (it arrived in 19.6).
     */
    retention: z
      .object({
        /** Time between passes; the first runs this long after start. 0: no retention pass. */
        intervalMs: z
          .number()
          .int()
          .min(0)
          .default(6 * 3_600_000),
        days: z
          .object({
            events: days(400),
            dead_letters: days(30),
            features: days(90),
            recommendations: days(30),
            served_features: days(30),
            push_notifications: days(400),
            push_outcomes: days(400),
            model_metrics: days(400),
            erasures: days(0),
          })
          .default({}),
      })
      .default({}),
  })
  .default({});
