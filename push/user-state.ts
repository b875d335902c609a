import type { HourCounts } from './hour-counts.js';
import type { RecentMap } from './recent-map.js';
import {
  CHANNELS,
  type Channel,
  type PreferenceUpdate,
  type PushTrigger,
  type Variant,
} from './types.js';

/** Channel bit i = CHANNELS[i]; no preference message = push and in_app (CONTRACT §5). */
export const DEFAULT_CHANNEL_MASK = 0b0101;
export const channelBit = (c: Channel): number => 1 << CHANNELS.indexOf(c);

/** Layout of `stats`: per-user learned counts (all decayed by halving, see learner.ts). */
export const ST = {
  /** sends, opens per channel: [2i], [2i+1]. */
  channel: 0,
  /** predicted opens (the population arm's rate at each send), opens per variant. */
  variant: 8,
  /** fresh sends, fresh opens, loaded sends, loaded opens, Σ load of loaded sends. */
  fatigue: 14,
  size: 19,
} as const;

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

/** Events of one category within the burst window, oldest first (at most BURST_EVENTS). */
export interface BurstWindow {
  readonly category: string;
  /**
   * Time and weight of each event, interleaved (t0, w0, t1, w1, ...): one list of numbers where
   * there were two, as a list costs about 56 B beyond its entries (issue 12).
   */
  tw: number[];
  items: string[];
  firedAt: number;
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
 * Appends `x`; an empty list becomes a literal of one. Most users hold one or two entries, and
 * a push into an empty array reserves 17 slots (152 bytes), per list and per user.
 */
export function append<T>(list: T[], x: T): T[] {
  if (list.length === 0) return [x];
  list.push(x);
  return list;
}

/**
 * `append` of a pair of numbers. An array literal's elements kind is learned per literal, and
 * `append`'s literal also makes lists of strings and objects, so number lists made there hold
 * every number boxed (a 16 B heap number each, issue 12); this literal only ever sees numbers,
 * so its lists keep them unboxed.
 */
export function appendPair(list: number[], a: number, b: number): number[] {
  if (list.length === 0) return [a, b];
  list.push(a, b);
  return list;
}

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

/**
 * What a preference message (CONTRACT §5) set for a user. Most users never send one, so these
 * five fields (one a boxed double) are one optional object instead of fields of every user's
 * state (issue 12: about 48 B per user); readers see the defaults through UserPushState's
 * accessors.
 */
class UserPrefs {
  ts = -Infinity;
  channelMask = DEFAULT_CHANNEL_MASK;
  personalization = true;
  tzPinned = false;
  locale: string | undefined = undefined;
}
const DEFAULT_PREFS: Readonly<UserPrefs> = Object.freeze(new UserPrefs());

/**
 * Small integers of one user share one field (issue 12: a field is 8 bytes per user): the
 * decided ring's next slot (bits 0-7), the last variant + 1 (bits 8-11) and the holdout flag + 1
 * (bits 12-13). All zero is the initial state (slot 0, no variant, holdout not computed).
 */
const NEXT_MASK = 0xff;
const VARIANT_SHIFT = 8;
const HOLDOUT_SHIFT = 12;
/** A value outside a packed field's range is a corrupt record (decodeUser) or a bug: refused. */
function fitBits(v: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`push state: ${what} ${v} out of range`);
  return v;
}

/**
 * Everything the push engine knows about one user, in one place so it can be written out,
 * restored and erased per user (snapshotUser / restoreUser / forgetUser of the engine).
 */
export class UserPushState {
  lastSeen = -Infinity;
  private prefs: UserPrefs | undefined;
  private bits = 0;
  tz: string | undefined;
  /**
   * Hour-of-week engagement counts (saturating, halved every half-life); lazily allocated,
   * sparse while few hours are non-zero (hour-counts.ts).
   */
  hours: HourCounts | undefined;
  hoursAt = 0;
  stats: Float32Array | undefined;
  lastVariantTs = 0;
  /** Delivery times of sent (or holdout would-be) pushes in the frequency window, ascending. */
  sent: number[] = noneYet();
  sentChannels: number[] = noneYet();
  /**
   * Last send per trigger (NaN: none). This and `decided` are plain arrays of exact length: a
   * typed array costs two more objects and a separate allocation, per user.
   */
  lastByTrigger: number[] | undefined;
  /**
   * Items pushed before, oldest (least recently pushed) first, at most USER_BOUNDS.pushedItems.
   * An array, not a Set: most users hold a few, and a Set's table reserves room for four and
   * costs about 150 B (issue 12).
   */
  pushedItems: string[] | undefined;
  /** Ring of (key hash, decision time) pairs. */
  decided: number[] | undefined;
  recent: RecentPush[] = noneYet();
  pending: PendingPush[] = noneYet();
  /** Pending cart adds, item -> add time, oldest first (a RecentMap: no Map per user). */
  carts: RecentMap | undefined;
  interest: RecentMap | undefined;
  /**
   * Live burst windows, least recently touched first (at most USER_BOUNDS.burstCategories): a
   * list, as most users have one, where a Map per user cost about 180 B (issue 12).
   */
  bursts: BurstWindow[] | undefined;
  lastTop: string | undefined;
  /**
   * PushUsers' recency list (recency-list.ts, least recently seen first), intrusive so the users
   * Map is written once per user instead of a delete and a re-insert per touch (issue 12), and
   * the user's id for eviction. Not part of the encoded state.
   */
  lruPrev: UserPushState | undefined = undefined;
  lruNext: UserPushState | undefined = undefined;
  lruId = '';

  private ownPrefs(): UserPrefs {
    return (this.prefs ??= new UserPrefs());
  }

  // A setter given the default for a user without preferences allocates nothing (decodeUser
  // sets every field of every restored user).
  get prefTs(): number {
    return (this.prefs ?? DEFAULT_PREFS).ts;
  }
  set prefTs(v: number) {
    if (this.prefs || v !== DEFAULT_PREFS.ts) this.ownPrefs().ts = v;
  }
  get channelMask(): number {
    return (this.prefs ?? DEFAULT_PREFS).channelMask;
  }
  set channelMask(v: number) {
    if (this.prefs || v !== DEFAULT_PREFS.channelMask) this.ownPrefs().channelMask = v;
  }
  get personalization(): boolean {
    return (this.prefs ?? DEFAULT_PREFS).personalization;
  }
  set personalization(v: boolean) {
    if (this.prefs || v !== DEFAULT_PREFS.personalization) this.ownPrefs().personalization = v;
  }
  /** The zone came from a preference message (which beats `props.tz` of events). */
  get tzPinned(): boolean {
    return (this.prefs ?? DEFAULT_PREFS).tzPinned;
  }
  set tzPinned(v: boolean) {
    if (this.prefs || v !== DEFAULT_PREFS.tzPinned) this.ownPrefs().tzPinned = v;
  }
  get locale(): string | undefined {
    return (this.prefs ?? DEFAULT_PREFS).locale;
  }
  set locale(v: string | undefined) {
    if (this.prefs || v !== DEFAULT_PREFS.locale) this.ownPrefs().locale = v;
  }

  /** Index in VARIANTS of the last variant pushed (-1: none yet). */
  get lastVariant(): number {
    return ((this.bits >> VARIANT_SHIFT) & 0xf) - 1;
  }
  set lastVariant(v: number) {
    const x = fitBits(v, -1, 14, 'lastVariant') + 1;
    this.bits = (this.bits & ~(0xf << VARIANT_SHIFT)) | (x << VARIANT_SHIFT);
  }
  /** Whether the user is held out (-1: not computed yet). Derived from the id: never stored. */
  get holdoutFlag(): number {
    return ((this.bits >> HOLDOUT_SHIFT) & 3) - 1;
  }
  set holdoutFlag(v: number) {
    const x = fitBits(v, -1, 1, 'holdoutFlag') + 1;
    this.bits = (this.bits & ~(3 << HOLDOUT_SHIFT)) | (x << HOLDOUT_SHIFT);
  }
  /** Next slot of the `decided` ring (below USER_BOUNDS.decided). */
  get decidedNext(): number {
    return this.bits & NEXT_MASK;
  }
  set decidedNext(v: number) {
    const x = fitBits(v, 0, Math.min(NEXT_MASK, USER_BOUNDS.decided - 1), 'decidedNext');
    this.bits = (this.bits & ~NEXT_MASK) | x;
  }

  statsArray(): Float32Array {
    return (this.stats ??= new Float32Array(ST.size));
  }

  /** True when the key was decided before; otherwise remembers it. */
  seenKey(key: string, at: number, horizonMs: number): boolean {
    const h = parseInt(key.slice(0, 13), 16);
    let ring = this.decided;
    if (ring)
      for (let i = 0; i < ring.length; i += 2)
        if (ring[i] === h && (ring[i + 1] as number) >= at - horizonMs) return true;
    // Most users see a few decisions a day: the ring starts small and grows to its bound.
    if (!ring || (this.decidedNext === ring.length / 2 && ring.length / 2 < USER_BOUNDS.decided)) {
      const grown = new Array<number>(
        Math.min(2 * USER_BOUNDS.decided, Math.max(4, 2 * (ring?.length ?? 0))),
      ).fill(NaN);
      if (ring) for (let j = 0; j < ring.length; j++) grown[j] = ring[j] as number;
      this.decided = ring = grown;
    }
    const slots = ring.length / 2;
    const i = this.decidedNext % slots;
    ring[2 * i] = h;
    ring[2 * i + 1] = at;
    this.decidedNext = (i + 1) % USER_BOUNDS.decided;
    return false;
  }

  /** Nothing worth keeping beyond learned statistics and preferences. */
  get idle(): boolean {
    return (
      this.pending.length === 0 &&
      this.recent.length === 0 &&
      (this.carts?.size ?? 0) === 0 &&
      this.sent.length === 0
    );
  }
}

/**
 * A preference message (CONTRACT §5) applied to the user's state: the latest by `ts` wins; a user
 * who turns personalisation off loses what was learned about them and gets no profile.
 */
export function applyPreference(s: UserPushState, p: PreferenceUpdate): void {
  if (p.ts < s.prefTs) return;
  s.prefTs = p.ts;
  let mask = 0;
  CHANNELS.forEach((c, i) => {
    if (p.channels[c]) mask |= 1 << i;
  });
  s.channelMask = mask;
  s.personalization = p.personalization ?? true;
  if (!s.personalization) {
    s.hours = undefined;
    s.stats = undefined;
  }
  // The validator accepted only zones the runtime knows.
  if (p.tz !== undefined) {
    s.tz = p.tz;
    s.tzPinned = true;
  }
  if (p.locale !== undefined) s.locale = p.locale;
}
