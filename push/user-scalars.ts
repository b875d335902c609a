import { growF64, growU8 } from '../models/core/arrays.js';

/** Times of a user, one Float64 each (stride TIMES in `times`). */
export const T_LAST_SEEN = 0;
export const T_HOURS_AT = 1;
export const T_LAST_VARIANT = 2;
/**
 * A `decided` ring of its first size (RING_SMALL entries, two pairs), which is all most users
 * ever need: as its own list of numbers it cost about 70 B per user.
 */
export const T_RING = 3;
export const RING_SMALL = 4;
/**
 * Time of the user's oldest interest item (interest.ts): with it here, the one item most users
 * have is a string in their state and no list (about 80 B less per such user).
 */
export const T_INTEREST = T_RING + RING_SMALL;
const TIMES = T_INTEREST + 1;
/** Small integers of a user, one byte each (stride SMALL in `small`), stored with an offset. */
export const S_DECIDED_NEXT = 0;
export const S_VARIANT = 1;
export const S_HOLDOUT = 2;
/** 1: the user's `decided` ring is the RING_SMALL entries at T_RING. */
export const S_RING = 3;
const SMALL = 4;

/**
 * The scalar fields of push users (times, the `decided` ring's next slot, last variant, holdout
 * flag, a small `decided` ring, the first interest item's time) in typed columns indexed by a per-user slot (issue 12). As fields
 * of each user's state object they cost a field each and a 16-byte heap number per time (fields
 * that hold doubles box them): about 80 B per user, and the ring about 70 B more, where the
 * columns hold 60 B.
 *
 * Bound: one slot per state bound to these columns: PushUsers' at most `maxUsers` users, or the
 * one slot of a state of its own (decoded, or dropped from PushUsers). The arrays grow by
 * doubling, then by a quarter beyond 65,536 entries (models/core/arrays.ts), and never shrink;
 * slots given back are reused first.
 */
export class UserScalars {
  times = new Float64Array(0);
  small = new Uint8Array(0);
  private readonly free: number[] = [];
  private used = 0;

  /** A slot in the initial state: never seen, no hours, no variant, holdout not computed. */
  alloc(): number {
    const slot = this.free.pop() ?? this.used++;
    this.times = growF64(this.times, (slot + 1) * TIMES);
    this.small = growU8(this.small, (slot + 1) * SMALL);
    this.times[slot * TIMES + T_LAST_SEEN] = -Infinity;
    this.times[slot * TIMES + T_HOURS_AT] = 0;
    this.times[slot * TIMES + T_LAST_VARIANT] = 0;
    this.times.fill(NaN, slot * TIMES + T_RING, slot * TIMES + T_RING + RING_SMALL);
    this.times[slot * TIMES + T_INTEREST] = 0;
    this.small.fill(0, slot * SMALL, slot * SMALL + SMALL);
    return slot;
  }

  release(slot: number): void {
    this.free.push(slot);
  }

  /** Copies slot `from` of `src` over slot `to` of these columns. */
  copyFrom(src: UserScalars, from: number, to: number): void {
    this.times.set(src.times.subarray(from * TIMES, from * TIMES + TIMES), to * TIMES);
    this.small.set(src.small.subarray(from * SMALL, from * SMALL + SMALL), to * SMALL);
  }

  time(slot: number, k: number): number {
    return this.times[slot * TIMES + k] as number;
  }

  setTime(slot: number, k: number, v: number): void {
    this.times[slot * TIMES + k] = v;
  }

  byte(slot: number, k: number): number {
    return this.small[slot * SMALL + k] as number;
  }

  setByte(slot: number, k: number, v: number): void {
    this.small[slot * SMALL + k] = v;
  }
}
