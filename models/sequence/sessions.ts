import { growF32, growF64, growI32 } from '../core/arrays.js';
import type { SnapshotReader, SnapshotWriter } from '../core/snapshot.js';

/**
 * 32-bit FNV-1a of a session id: only equality matters, and 0 stands for "none given". Signed,
 * because it is stored in Int32Arrays and compared with what they give back (an unsigned hash
 * of 2^31 or more read back negative, so half of all session ids never matched their own
 * session and every event of such a session started a new one).
 */
export function sessionHash(id: string | undefined): number {
  if (id === undefined) return 0;
  let h = 0x811c9dc5;
  for (let x = 0; x < id.length; x++) h = Math.imul(h ^ id.charCodeAt(x), 0x01000193);
  return h | 0 || 1;
}

/**
 * Per user: the current session's last `width` items (a ring), when it was last active, and
 * the GRU state over it. Rows follow the shared user id space, so they are bounded by
 * limits.users (a recycled row is reset by the owner); per row width × 4 + dim × 4 + 24 bytes.
 */
export class UserSessions {
  ring = new Int32Array(0);
  /** items in the current session (the ring holds the last `width`) */
  count = new Int32Array(0);
  lastTs = new Float64Array(0);
  sess = new Int32Array(0);
  /** GRU state per user, dim wide; valid when `epochOf` equals the model's epoch */
  h = new Float32Array(0);
  epochOf = new Int32Array(0);
  private rows = 0;

  constructor(
    readonly width: number,
    public dim: number,
  ) {}

  ensure(users: number): void {
    if (users <= this.rows) return;
    const n = Math.max(users, this.rows * 2, 16);
    this.ring = growI32(this.ring, n * this.width);
    this.count = growI32(this.count, n);
    this.lastTs = growF64(this.lastTs, n);
    this.sess = growI32(this.sess, n);
    this.h = growF32(this.h, n * this.dim);
    this.epochOf = growI32(this.epochOf, n);
    this.rows = n;
  }

  /** A new state width (a model of another dim was swapped in): every state is stale anyway. */
  resize(dim: number): void {
    if (dim === this.dim) return;
    this.dim = dim;
    this.h = new Float32Array(this.rows * dim);
    this.epochOf.fill(0);
  }

  reset(u: number): void {
    if (u >= this.rows) return;
    this.count[u] = 0;
    this.lastTs[u] = 0;
    this.sess[u] = 0;
    this.epochOf[u] = 0;
  }

  /** The item `back` steps before the newest of u's session (0 = newest); -1 past the start. */
  item(u: number, back: number): number {
    const n = this.count[u];
    if (back >= n || back >= this.width) return -1;
    return this.ring[u * this.width + ((n - 1 - back) % this.width)];
  }

  /**
   * Appends item i at time ts; returns 0 when it repeats the session's newest item (ignored),
   * 2 when it starts a new session, else 1.
   */
  push(u: number, i: number, ts: number, sess: number, gapMs: number): number {
    const n = this.count[u];
    const fresh = n === 0 || ts - this.lastTs[u] > gapMs || (sess !== 0 && sess !== this.sess[u]);
    if (ts > this.lastTs[u] || fresh) this.lastTs[u] = ts;
    this.sess[u] = sess;
    if (fresh) {
      this.count[u] = 0;
      this.epochOf[u] = 0;
    } else if (this.item(u, 0) === i) return 0;
    const c = this.count[u];
    this.ring[u * this.width + (c % this.width)] = i;
    this.count[u] = c + 1;
    return fresh ? 2 : 1;
  }

  save(w: SnapshotWriter, users: number): void {
    w.array('ring', this.ring, Math.min(this.rows, users) * this.width);
    w.array('count', this.count, Math.min(this.rows, users));
    w.array('lastTs', this.lastTs, Math.min(this.rows, users));
    w.array('sess', this.sess, Math.min(this.rows, users));
  }

  /** GRU states are not saved: they are rebuilt from the rings on first use. */
  load(r: SnapshotReader, users: number): void {
    this.rows = 0;
    this.ring = new Int32Array(0);
    this.count = new Int32Array(0);
    this.lastTs = new Float64Array(0);
    this.sess = new Int32Array(0);
    this.h = new Float32Array(0);
    this.epochOf = new Int32Array(0);
    this.ensure(users);
    this.ring.set(r.i32('ring'));
    this.count.set(r.i32('count'));
    this.lastTs.set(r.f64('lastTs'));
    this.sess.set(r.i32('sess'));
  }
}
