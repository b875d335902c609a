/**
 * The parts of a user's push state (UserPushState, user-state.ts, re-exports them): kept apart so
 * user-state.ts stays under the module size limit. Bounds: USER_BOUNDS, below.
 */
import type { Channel, PushTrigger, Variant } from './types.js';

/** A push delivered (or, for holdout users, one that would have been): attribution and learning. */
export interface RecentPush {
  readonly pushId: string;
  readonly trigger: PushTrigger;
  readonly channel: Channel | '';
  readonly variant: Variant;
  /** Delivery time. */
  readonly ts: number;
  readonly items: readonly string[];
  readonly holdout: boolean;
  readonly load: number;
  opened: boolean;
  converted: boolean;
}

/**
 * A push decided for a later delivery time (the user's best hour, or after quiet hours). Its
 * candidate and action are kept as the bytes the changelog writes for them (user-codec.ts,
 * packPending / unpackPending), one byte per character of a string: as objects they were about
 * 550 B (two objects, six boxed numbers, item list, vars, two texts), as one string about 300,
 * and a user can hold one for up to `maxDelayMs` (issue 12). Read at delivery, on a purchase of
 * the user and on restore.
 */
export interface PendingPush {
  readonly key: string;
  readonly packed: string;
  /** Items of the push the user bought while it waited: dropped from it at delivery. */
  bought: string[];
}

/** Per-structure bounds of one user's push state (docs/operations.md sums them). */
export const USER_BOUNDS = {
  /** Dedupe keys remembered (64-bit hashes), each for at most the dedupe horizon. */
  decided: 64,
  /** Items ever pushed, for "never pushed before" (new_recommendation). */
  pushedItems: 256,
  /** Pending cart adds. */
  carts: 50,
  /** Items the user recently viewed, clicked or carted (price drop / back in stock). */
  interest: 100,
  /** Categories with a live burst window, and events kept per window. */
  burstCategories: 16,
  burstEvents: 64,
  /** Delivered pushes kept for attribution, and pushes waiting for their delivery time. */
  recent: 32,
  pending: 32,
} as const;

/**
 * Appends `x`; callers keep the result. Most users hold one or two entries, and a push into a
 * full array grows it by half + 16 slots (a push into an empty one reserves 17 slots, 152 bytes;
 * into one of one entry, 17 more), per list and per user: an empty list becomes a literal of
 * one, and lists below SMALL_LIST entries are copied to exact size (issue 12).
 */
export function append<T>(list: T[], x: T): T[] {
  if (list.length === 0) return [x];
  if (list.length < SMALL_LIST) return list.concat([x]);
  list.push(x);
  return list;
}

/** Lists shorter than this grow by a copy of exact size (append). */
const SMALL_LIST = 16;

/**
 * The same text as one flat string. Strings built by concatenation are trees of pieces (200-300 B
 * where the text is about 100 characters): for text that state keeps (issue 12).
 */
export const flatText = (s: string): string => JSON.parse(JSON.stringify(s)) as string;

/**
 * The empty list of every user with nothing in it yet (frozen: writers go through `append` or
 * assign a new array). Four lists per user, most of them empty: one shared array instead of
 * four 32-byte arrays per user (issue 12).
 */
const NONE: readonly never[] = Object.freeze([]);
export const noneYet = <T>(): T[] => NONE as never[];

/** Channel bit i = CHANNELS[i]; no preference message = push and in_app (CONTRACT §5). */
export const DEFAULT_CHANNEL_MASK = 0b0101;

/**
 * What a preference message (CONTRACT §5) set for a user. Most users never send one, so these
 * five fields (one a boxed double) are one optional object instead of fields of every user's
 * state (issue 12: about 48 B per user), held by UserExtras (8 B per user less than a field of
 * the state); readers see the defaults through UserPushState's accessors.
 */
export class UserPrefs {
  ts = -Infinity;
  channelMask = DEFAULT_CHANNEL_MASK;
  personalization = true;
  tzPinned = false;
  locale: string | undefined = undefined;
}

/**
 * The fields of a user's push state that only users who were pushed to (or who sent a zone or
 * preferences) set: on the id-memory stream 97 % of users have none of them, and as fields of
 * every state they cost 8 B each per user (issue 12). UserPushState reads them through accessors, defaults from
 * NO_EXTRAS while the user has none; the first non-default value makes the object.
 */
export class UserExtras {
  prefs: UserPrefs | undefined = undefined;
  tz: string | undefined = undefined;
  stats: Float32Array | undefined = undefined;
  /** Delivery times of sent (or holdout would-be) pushes in the frequency window, ascending. */
  sent: number[] = noneYet();
  sentChannels: number[] = noneYet();
  /**
   * Last send per trigger (NaN: none). This and `decided` are plain arrays of exact length: a
   * typed array costs two more objects and a separate allocation, per user.
   */
  lastByTrigger: number[] | undefined = undefined;
  /**
   * Items pushed before, oldest (least recently pushed) first, at most USER_BOUNDS.pushedItems.
   * An array, not a Set: most users hold a few, and a Set's table reserves room for four and
   * costs about 150 B (issue 12).
   */
  pushedItems: string[] | undefined = undefined;
  /**
   * The `decided` ring when it is not of its first size (that one is in the scalar columns,
   * user-scalars.ts): see UserPushState.decided.
   */
  decidedList: number[] | undefined = undefined;
  recent: RecentPush[] = noneYet();
  pending: PendingPush[] = noneYet();
}
export const NO_EXTRAS: Readonly<UserExtras> = Object.freeze(new UserExtras());
