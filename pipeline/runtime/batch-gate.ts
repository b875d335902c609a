/**
 * Lets one batch at a time through a stretch of asynchronous stages, in arrival order: the next
 * batch enters only after the previous one left. `run` needs it once its graph yields the event
 * loop between operators: without it, the next batch's hydrate and graph would run inside the
 * previous batch's pass and its state changelog would carry state newer than its offsets.
 */
export class BatchGate {
  private left: Promise<void> = Promise.resolve();
  /** Set while a batch is inside: opens the gate for the next one. */
  private release: (() => void) | undefined;

  /** Resolves when the batch may go in; calls must not overlap (concatMap's order gives that). */
  async enter(): Promise<void> {
    await this.left;
    this.left = new Promise<void>((resolve) => {
      this.release = resolve;
    });
  }

  /** The batch inside is through; the next one may enter. */
  leave(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  /** A batch is between enter and leave. */
  get busy(): boolean {
    return this.release !== undefined;
  }
}
