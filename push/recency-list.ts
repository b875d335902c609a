/** The links an entry of a RecencyList carries itself: no node object per entry. */
export interface RecencyLinks<T> {
  lruPrev: T | undefined;
  lruNext: T | undefined;
}

/**
 * Entries in recency order, oldest first, as a doubly linked list through the entries themselves
 * (`lruPrev` / `lruNext`). A Map's insertion order was the order before, each touch a delete and a
 * re-insert, and V8's ordered table kept a hole per touch until its next rehash: 2.6 times as many
 * slots as users on the id-memory run, 59 B per id (issue 12). The list visits entries in exactly
 * the order the Map's insertion order did, including `walkNext`, which walks it as a Map iterator
 * would (an entry moved to the end after the walk passed it comes again at the end; one unlinked
 * before it was reached is skipped).
 */
export class RecencyList<T extends RecencyLinks<T>> {
  private head: T | undefined;
  private tail: T | undefined;
  /** walkNext's walk: the next entry to visit, and whether a walk is under way. */
  private cursor: T | undefined;
  private walking = false;

  /** The least recently used entry (follow `lruNext` for the rest, oldest first). */
  get oldest(): T | undefined {
    return this.head;
  }

  /**
   * The next entry of a round-robin walk in recency order, or undefined when the walk has reached
   * the end (the next call starts a new walk from the oldest).
   */
  walkNext(): T | undefined {
    if (!this.walking) {
      this.walking = true;
      this.cursor = this.head;
    }
    const s = this.cursor;
    if (!s) {
      this.walking = false;
      return undefined;
    }
    this.cursor = s.lruNext;
    return s;
  }

  /** Links s last (most recent); a walk that had reached the end visits it next. */
  append(s: T): void {
    s.lruPrev = this.tail;
    s.lruNext = undefined;
    if (this.tail) this.tail.lruNext = s;
    else this.head = s;
    this.tail = s;
    if (this.walking && this.cursor === undefined) this.cursor = s;
  }

  /** Unlinks s; a walk about to visit it moves on to the next. */
  unlink(s: T): void {
    if (this.cursor === s) this.cursor = s.lruNext;
    if (s.lruPrev) s.lruPrev.lruNext = s.lruNext;
    else this.head = s.lruNext;
    if (s.lruNext) s.lruNext.lruPrev = s.lruPrev;
    else this.tail = s.lruPrev;
    s.lruPrev = s.lruNext = undefined;
  }
}
