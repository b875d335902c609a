/**
 * Retries `fn` with capped exponential backoff until it succeeds or `aborted()` turns true.
 * A sink outage therefore stalls the batch (and, through the in-flight bound, consumption)
 * instead of losing work or crashing the job.
 */
export async function retryUntilDone<T>(
  fn: () => Promise<T>,
  opts: {
    aborted: () => boolean;
    onError: (err: unknown, attempt: number) => void;
    maxDelayMs?: number;
  },
): Promise<T> {
  const maxDelay = opts.maxDelayMs ?? 5_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      opts.onError(err, attempt);
      if (opts.aborted()) throw err;
      const delay = Math.min(maxDelay, 100 * 2 ** Math.min(attempt, 10));
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random() / 2)));
    }
  }
}
