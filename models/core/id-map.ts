/**
 * What an IdMap does when it holds `capacity` ids and a new one arrives: `refuse` it (intern
 * returns -1; for items, tokens and categories, which other rows refer to by number), or
 * `recycle` the least recently used id's number for it (for users: nothing else refers to a
 * user's row, so the row is reset through the onRecycle hooks and reused).
 */
/** Prefix of an erased id's placeholder name: U+0000 never appears in a valid id (invalid_id). */
export const ERASED = '\u0000erased:';

export type WhenFull = 'refuse' | 'recycle';

/**
 * Dense int ids for string ids, so model state lives in typed arrays indexed by row. Unbounded
 * unless limited (config `limits`): then it refuses or recycles (see WhenFull). Recycling picks
 * the victim with the CLOCK algorithm (one reference bit per id, set on every intern and get),
 * an approximation of least recently used that costs one byte write per lookup.
 */
export class IdMap {
  private readonly index = new Map<string, number>();
  private readonly names: string[] = [];
  private capacity = Number.POSITIVE_INFINITY;
  private whenFull: WhenFull = 'refuse';
  private ref: Uint8Array | undefined;
  private hand = 0;
  private readonly recycleHooks: ((id: number) => void)[] = [];
  /** Rows of erased ids, reused first. Bound: at most the map's size. */
  private free: number[] = [];
  /** New ids refused because the map was full. */
  refused = 0;
  /** Ids whose number was given to a newer id. */
  recycled = 0;

  get size(): number {
    return this.names.length;
  }

  get limit(): number {
    return this.capacity;
  }

  /** Bounds the map (before use, or any time: existing ids stay). */
  setLimit(capacity: number, whenFull: WhenFull): void {
    if (!(capacity >= 1)) throw new RangeError(`IdMap capacity must be >= 1, got ${capacity}`);
    this.capacity = capacity;
    this.whenFull = whenFull;
    this.ref =
      whenFull === 'recycle' && Number.isFinite(capacity)
        ? new Uint8Array(Math.max(capacity, this.names.length)).fill(1, 0, this.names.length)
        : undefined;
  }

  /** `hook(id)` runs when id's number now names a different string: reset its row there. */
  onRecycle(hook: (id: number) => void): void {
    this.recycleHooks.push(hook);
  }

  /** The int id of `id`, assigned on first sight; -1 when the map is full and refuses. */
  intern(id: string): number {
    let i = this.index.get(id);
    if (i !== undefined) {
      if (this.ref) this.ref[i] = 1;
      return i;
    }
    const reuse = this.takeFree();
    if (reuse >= 0) {
      this.index.delete(this.names[reuse]);
      this.names[reuse] = id;
      this.index.set(id, reuse);
      if (this.ref) this.ref[reuse] = 1;
      return reuse;
    }
    if (this.names.length < this.capacity) {
      i = this.names.length;
      this.index.set(id, i);
      this.names.push(id);
      if (this.ref) this.ref[i] = 1;
      return i;
    }
    if (this.whenFull === 'refuse' || !this.ref) {
      this.refused++;
      return -1;
    }
    i = this.victim(this.ref);
    this.index.delete(this.names[i]);
    this.names[i] = id;
    this.index.set(id, i);
    this.ref[i] = 1;
    this.recycled++;
    for (const hook of this.recycleHooks) hook(i);
    return i;
  }

  /**
   * Erases `id` (right to erasure): its row is reset through the onRecycle hooks and its name
   * replaced by a placeholder no valid id can equal (ids never hold control characters), so no
   * later snapshot names it. The row is reused by the next new id. False when unknown.
   */
  erase(id: string): boolean {
    const i = this.index.get(id);
    if (i === undefined) return false;
    this.index.delete(id);
    const placeholder = `${ERASED}${i}`;
    this.names[i] = placeholder;
    this.index.set(placeholder, i);
    for (const hook of this.recycleHooks) hook(i);
    this.free.push(i);
    return true;
  }

  /** The int id, or -1 when never seen (lookups must not grow the map). */
  get(id: string): number {
    const i = this.index.get(id);
    if (i === undefined) return -1;
    if (this.ref) this.ref[i] = 1;
    return i;
  }

  name(i: number): string {
    return this.names[i];
  }

  toArray(): string[] {
    return this.names.slice();
  }

  /** Replaces the contents; ids are the array positions (a snapshot may exceed the limit). */
  load(names: readonly string[]): void {
    this.index.clear();
    this.names.length = 0;
    for (const n of names) {
      this.index.set(n, this.names.length);
      this.names.push(n);
    }
    // a snapshot taken under a higher limit keeps its ids; new ones then recycle
    if (this.ref)
      this.ref = new Uint8Array(Math.max(this.capacity, names.length)).fill(1, 0, names.length);
    this.hand = 0;
    // erased rows of a snapshot are free again (their hooks ran before it was taken)
    this.free = [];
    for (let j = names.length - 1; j >= 0; j--) if (names[j].startsWith(ERASED)) this.free.push(j);
  }

  /** A free row whose placeholder still names it (a recycle may have reused it meanwhile). */
  private takeFree(): number {
    for (let j = this.free.pop(); j !== undefined; j = this.free.pop())
      if (this.names[j]?.startsWith(ERASED)) return j;
    return -1;
  }

  /** CLOCK: sweep from the hand, clearing reference bits, to the first id not used since. */
  private victim(ref: Uint8Array): number {
    const n = this.names.length;
    for (;;) {
      const i = this.hand;
      this.hand = i + 1 === n ? 0 : i + 1;
      if (ref[i] === 0) return i;
      ref[i] = 0;
    }
  }
}
