import { z } from 'zod';

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
  })
  .default({});
