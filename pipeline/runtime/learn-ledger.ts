/**
 * Per partition of the input topic, the next offset this process has not learned from yet. The
 * main pipeline and the follower both learn through it, so an event is learned at most once per
 * process however its partition moves between them, and a restart from a snapshot does not learn
 * again what the snapshot already holds.
 */
export class LearnLedger {
  private readonly next = new Map<number, number>();

  get(partition: number): number | undefined {
    return this.next.get(partition);
  }

  /** True when `offset` has not been learned yet; it then counts as learned. */
  claim(partition: number, offset: number): boolean {
    const n = this.next.get(partition);
    if (n !== undefined && offset < n) return false;
    this.next.set(partition, offset + 1);
    return true;
  }

  /** Everything before `next` counts as learned (never moves backwards). */
  advance(partition: number, next: number): void {
    const n = this.next.get(partition);
    if (n === undefined || n < next) this.next.set(partition, next);
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.next].map(([p, o]) => [String(p), o]));
  }

  load(state: Readonly<Record<string, number>>): void {
    this.next.clear();
    for (const [p, o] of Object.entries(state)) {
      const partition = Number(p);
      if (Number.isInteger(partition) && Number.isFinite(o)) this.next.set(partition, o);
    }
  }
}

const MAGIC = [0x52, 0x50, 0x4c, 0x31]; // "RPL1": a ledger travels in front of the model bytes

/**
 * The model and the ledger are saved as ONE value, so a snapshot never pairs a model with the
 * positions of another moment (that would learn events twice or skip them after a restore).
 */
export function packSnapshot(ledger: LearnLedger, model: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(ledger.toJSON()));
  const out = new Uint8Array(8 + head.byteLength + model.byteLength);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, head.byteLength, true);
  out.set(head, 8);
  out.set(model, 8 + head.byteLength);
  return out;
}

/** The model bytes, with the ledger restored when the value carries one (older snapshots do not). */
export function unpackSnapshot(bytes: Uint8Array, ledger: LearnLedger): Uint8Array {
  if (bytes.byteLength < 8 || MAGIC.some((b, i) => bytes[i] !== b)) return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(4, true);
  const head = bytes.subarray(8, 8 + len);
  ledger.load(JSON.parse(new TextDecoder().decode(head)) as Record<string, number>);
  return bytes.subarray(8 + len);
}
