/**
 * Resolves after a macrotask turn: timers, I/O callbacks and Kafka polls run before the caller
 * goes on, which awaiting an already settled promise (a microtask) does not allow.
 */
export const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => setImmediate(resolve));
