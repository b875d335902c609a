/**
 * Runs a stepwise computation (a generator that yields between parts of its work, such as
 * snapshotSteps or FeatureStore.ingestSteps) to the end at once: its value. A caller that wants
 * to give the event loop back between parts drives the generator itself.
 */
export function allSteps<T>(steps: Generator<void, T, undefined>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}
