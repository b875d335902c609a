/**
 * Lets one holder at a time through a stretch of asynchronous work, in the order they asked:
 * the next enters only after the previous one left. `run` needs it once its graph yields the
 * event loop between operators: without it, the next batch's hydrate and graph would run inside
 * the previous batch's pass and its state changelog would carry state newer than its offsets.
 * The model snapshot holds it too while it reads the model in parts, so no batch learns between
 * two parts.
 */
export class BatchGate {
  /** Settles when the last holder that asked has left. */
  private tail: Promise<void> = Promise.resolve();
  /** Set while a holder is inside: opens the gate for the next one. */
  private release: (() => void) | undefined;

  /** Resolves when the caller may go in, after every earlier caller has left. */
  async enter(): Promise<void> {
    const before = this.tail;
    let open: () => void = () => undefined;
    this.tail = new Promise<void>((resolve) => {
      open = resolve;
    });
    await before;
    this.release = open;
  }

  /** The holder inside is through; the next one may enter. */
  leave(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  /** Someone is between enter and leave. */
  get busy(): boolean {
    return this.release !== undefined;
  }
}
