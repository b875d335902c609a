/**
 * Batches commit in seq order, so "everything emitted so far is committed" is one number: the
 * seq of the last committed batch. A revoke waits on it before the group moves a partition.
 */
export class CommitProgress {
  private committed = -1;
  private ended = false;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly onTimeout: (seq: number, committed: number) => void) {}

  /** Batch `seq` (and so every batch before it) is committed. */
  committedUpTo(seq: number): void {
    this.committed = seq;
    for (const w of [...this.waiters]) w();
  }

  /** No more commits will come: release every waiter. */
  end(): void {
    this.ended = true;
    for (const w of [...this.waiters]) w();
  }

  /** Resolves once batch `seq` is committed, the job ended, or `maxMs` passed. */
  through(seq: number, maxMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = (): void => {
        if (!this.ended && this.committed < seq) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.onTimeout(seq, this.committed);
        this.waiters.delete(check);
        resolve();
      }, maxMs);
      this.waiters.add(check);
      check();
    });
  }
}
