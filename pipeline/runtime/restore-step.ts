/**
 * Runs one restore of assigned partitions' state (a changelog read, the push outbox's
 * resolution): what happens around it, such as waiting for this job's in-flight commits and
 * retrying a failed read, is the runtime's (push-durability.ts).
 */
export type RestoreStep = (step: () => Promise<void>) => Promise<void>;
