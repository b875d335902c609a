import type { SnapshotReader, SnapshotWriter } from '../core/snapshot.js';

/**
 * The last `capacity` session steps (user, item, starts-a-session) in arrival order: what an
 * in-process refit trains on, so a replay never trains on an event it has not yet scored.
 * Bounded: a ring of `capacity` entries (9 bytes each).
 */
export class TrainBuffer {
  private readonly user: Int32Array;
  private readonly item: Int32Array;
  private readonly start: Uint8Array;
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.user = new Int32Array(capacity);
    this.item = new Int32Array(capacity);
    this.start = new Uint8Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(u: number, i: number, startsSession: boolean): void {
    if (this.capacity === 0) return;
    const at = (this.head + this.size) % this.capacity;
    this.user[at] = u;
    this.item[at] = i;
    this.start[at] = startsSession ? 1 : 0;
    if (this.size < this.capacity) this.size++;
    else this.head = (this.head + 1) % this.capacity;
  }

  /**
   * The buffered sessions with at least two steps, as item lists in time order. A session cut
   * by the ring's start is kept from its first buffered step.
   */
  sessions(): Int32Array[] {
    const out: Int32Array[] = [];
    const open = new Map<number, number[]>();
    const close = (s: number[] | undefined): void => {
      if (s && s.length >= 2) out.push(Int32Array.from(s));
    };
    for (let k = 0; k < this.size; k++) {
      const at = (this.head + k) % this.capacity;
      const u = this.user[at];
      let s = open.get(u);
      if (s === undefined || this.start[at] === 1) {
        close(s);
        s = [];
        open.set(u, s);
      }
      s.push(this.item[at]);
    }
    for (const s of open.values()) close(s);
    return out;
  }

  save(w: SnapshotWriter): void {
    const n = this.size;
    const order = (a: Int32Array | Uint8Array): number[] =>
      Array.from({ length: n }, (_, k) => a[(this.head + k) % this.capacity]);
    w.array('user', Int32Array.from(order(this.user)));
    w.array('item', Int32Array.from(order(this.item)));
    w.array('start', Uint8Array.from(order(this.start)));
  }

  load(r: SnapshotReader): void {
    const user = r.i32('user');
    const item = r.i32('item');
    const start = r.u8('start');
    this.head = 0;
    this.size = 0;
    for (let k = Math.max(0, user.length - this.capacity); k < user.length; k++)
      this.push(user[k], item[k], start[k] === 1);
  }
}
