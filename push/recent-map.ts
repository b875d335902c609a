/**
 * Item → event time, oldest first: the subset of Map<string, number> the push triggers use, in
 * one array of (key, time) pairs. Why (issue 12): a user's interest holds one or two items, and
 * a Map costs about 200 bytes before its first entry (its table reserves four); this costs
 * about 80 + 32 per entry. Lookups scan, which at the bound (USER_BOUNDS.interest, 100) is
 * still cheap next to the event that triggers them.
 */
export class RecentMap {
  private kv: (string | number)[] = [];

  get size(): number {
    return this.kv.length / 2;
  }

  private find(key: string): number {
    const kv = this.kv;
    for (let i = 0; i < kv.length; i += 2) if (kv[i] === key) return i;
    return -1;
  }

  get(key: string): number | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : (this.kv[i + 1] as number);
  }

  /** Like Map.set: a present key keeps its place, a new one goes last. */
  set(key: string, ts: number): this {
    const i = this.find(key);
    if (i >= 0) this.kv[i + 1] = ts;
    // small lists are copied to exact size: a push grows the backing store by half + 16 slots
    else if (this.kv.length < 16) this.kv = this.kv.concat(key, ts);
    else this.kv.push(key, ts);
    return this;
  }

  delete(key: string): boolean {
    const i = this.find(key);
    if (i < 0) return false;
    this.kv.splice(i, 2);
    return true;
  }

  /** The oldest key (first set), if any. */
  first(): string | undefined {
    return this.kv[0] as string | undefined;
  }

  /** The i-th oldest key (0 <= i < size): reading entries without an iterator's garbage. */
  keyAt(i: number): string {
    return this.kv[2 * i] as string;
  }

  /** The time of the i-th oldest key. */
  timeAt(i: number): number {
    return this.kv[2 * i + 1] as number;
  }

  *keys(): IterableIterator<string> {
    for (let i = 0; i < this.kv.length; i += 2) yield this.kv[i] as string;
  }

  *[Symbol.iterator](): IterableIterator<[string, number]> {
    for (let i = 0; i < this.kv.length; i += 2)
      yield [this.kv[i] as string, this.kv[i + 1] as number];
  }
}
