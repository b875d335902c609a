/**
 * Min-heap of (time, payload) event-time timers, ties broken by insertion order so output order
 * is deterministic (marble tests and replays depend on it). Entries are never removed early:
 * the owner invalidates them instead (lazy deletion), which keeps re-scheduling O(log n).
 */
export class TimerHeap<T> {
  private times: number[] = [];
  private seqs: number[] = [];
  private items: T[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.times.length;
  }

  /** Earliest time, or +Infinity when empty. */
  peekTime(): number {
    return this.times.length === 0 ? Infinity : this.times[0];
  }

  push(time: number, item: T): void {
    const times = this.times;
    let i = times.length;
    times.push(time);
    this.seqs.push(this.nextSeq++);
    this.items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the earliest entry's payload; call only when size > 0. */
  pop(): T {
    const top = this.items[0];
    const last = this.times.length - 1;
    this.swap(0, last);
    this.times.pop();
    this.seqs.pop();
    this.items.pop();
    const n = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(r, l) ? r : l;
      if (!this.less(c, i)) break;
      this.swap(c, i);
      i = c;
    }
    return top;
  }

  private less(a: number, b: number): boolean {
    const ta = this.times[a];
    const tb = this.times[b];
    return ta < tb || (ta === tb && this.seqs[a] < this.seqs[b]);
  }

  private swap(a: number, b: number): void {
    const t = this.times[a];
    this.times[a] = this.times[b];
    this.times[b] = t;
    const s = this.seqs[a];
    this.seqs[a] = this.seqs[b];
    this.seqs[b] = s;
    const x = this.items[a];
    this.items[a] = this.items[b];
    this.items[b] = x;
  }
}
