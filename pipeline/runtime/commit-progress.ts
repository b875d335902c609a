/**
 * Batches commit in seq order, so "everything emitted so far is committed" is one number: the
 * seq of the last committed batch. A revoke waits on it before the group moves a partition.
 */
export class CommitProgress {
  private committed = -1;
  /** The last batch past its restore wait (run's prepare): it will commit without one. */
  private prepared = -1;
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

  /** Batch `seq` no longer waits for a restore (it is processed, then committed). */
  preparedUpTo(seq: number): void {
    this.prepared = seq;
  }

  /**
   * Resolves once every prepared batch is committed (or `maxMs` passed) and then no transaction
   * is in the middle of its commit (or `maxMs` passed again): a restore of assigned partitions
   * starts from what the processed batches committed (push-durability.ts). Batches not prepared
   * yet wait for that restore, so waiting for them would wait forever.
   */
  async settled(producer: { settled(): Promise<void> }, maxMs: number): Promise<void> {
    await this.through(this.prepared, maxMs);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      producer.settled(),
      new Promise((r) => (timer = setTimeout(r, maxMs))),
    ]).finally(() => clearTimeout(timer));
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
