/**
 * Runs a stepwise computation (a generator that yields between parts of its work, such as
 * snapshotSteps or FeatureStore.ingestSteps) to the end at once: its value. A caller that wants
 * to give the event loop back between parts uses stepsWithTurns.
 */
export function allSteps<T>(steps: Generator<void, T, undefined>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * Runs a stepwise computation to the end, awaiting `turn` wherever it yields (run passes a
 * macrotask, so a long stretch of work becomes several turns of the event loop): its value.
 * The computation decides where to yield; no turn follows its last step.
 */
export async function stepsWithTurns<T>(
  steps: Generator<void, T, undefined>,
  turn: () => Promise<void> | void,
): Promise<T> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await turn();
  }
}

/**
 * `steps` with the time each step took reported to `took` (ms), turns not included: the CPU a
 * computation cost when its steps are spread over turns of the event loop.
 */
export function* timedSteps<T>(
  steps: Generator<void, T, undefined>,
  took: (ms: number) => void,
): Generator<void, T, undefined> {
  for (;;) {
    const started = performance.now();
    const r = steps.next();
    took(performance.now() - started);
    if (r.done) return r.value;
    yield;
  }
}
