/**
 * Promises that resolve once a condition holds, re-checked only when `wake` is called (after
 * each poll that may have changed it), so nothing spins; each gives up at its deadline or when
 * the owner stops.
 */
export class WakeConditions {
  private readonly waiters = new Set<() => void>();

  constructor(private readonly stopped: () => boolean) {}

  /** True once `done()` holds; false at `maxMs` (or on stop) if it still does not. */
  until(done: () => boolean, maxMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const check = (): void => {
        if (done()) finish(true);
        else if (this.stopped()) finish(false);
      };
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(ok);
      };
      const timer = setTimeout(() => finish(done()), maxMs);
      this.waiters.add(check);
    });
  }

  wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
