/**
 * Event-time timers of small integer slots, bucketed by time: one Int32 per entry instead of a
 * heap entry's three array slots (time, sequence, payload: 24 B and more with the arrays' slack).
 *
 * Pane families arm a key's timer at its oldest pane's eviction time, a pane boundary plus the
 * window size and lateness, so few distinct times are pending at once and each bucket holds the
 * keys due then. Entries fire by time, then in arrival order: the same order as a TimerHeap
 * (ties broken by insertion), so replays and changelogs do not change. Like the heap, entries
 * are never removed early (the owner skips stale ones).
 * Bound: one entry per arm call not yet due; a bucket's list is freed once it has fired.
 */
export class SlotTimers {
  /** Pending bucket times, a min-heap (few: one per pane boundary in the horizon). */
  private readonly times: number[] = [];
  private readonly buckets = new Map<number, Bucket>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Earliest time, or +Infinity when empty. */
  peekTime(): number {
    return this.times.length === 0 ? Infinity : this.times[0];
  }

  push(time: number, slot: number): void {
    let b = this.buckets.get(time);
    if (b === undefined) {
      b = { slots: new Int32Array(4), n: 0, read: 0 };
      this.buckets.set(time, b);
      this.pushTime(time);
    }
    if (b.n === b.slots.length) {
      const next = new Int32Array(b.n * 2);
      next.set(b.slots);
      b.slots = next;
    }
    b.slots[b.n++] = slot;
    this.count++;
  }

  /** Removes and returns the earliest entry's slot; call only when size > 0. */
  pop(): number {
    const time = this.times[0];
    const b = this.buckets.get(time) as Bucket;
    const slot = b.slots[b.read++];
    this.count--;
    if (b.read === b.n) {
      this.buckets.delete(time);
      this.popTime();
    }
    return slot;
  }

  private pushTime(t: number): void {
    const h = this.times;
    let i = h.length;
    h.push(t);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p] <= t) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = t;
  }

  private popTime(): void {
    const h = this.times;
    const last = h.pop() as number;
    const n = h.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const c = l + 1 < n && h[l + 1] < h[l] ? l + 1 : l;
      if (h[c] >= last) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = last;
  }
}

interface Bucket {
  slots: Int32Array;
  /** Entries written. */
  n: number;
  /** Entries fired. */
  read: number;
}
