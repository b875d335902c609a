import type { BurstList } from './burst-list.js';
import type { HourCounts } from './hour-counts.js';
import type { InterestList } from './interest.js';
import type { RecentMap } from './recent-map.js';
import {
  NO_EXTRAS,
  USER_BOUNDS,
  UserExtras,
  UserPrefs,
  type PendingPush,
  type RecentPush,
} from './user-parts.js';
import {
  RING_SMALL,
  S_DECIDED_NEXT,
  S_HOLDOUT,
  S_RING,
  S_VARIANT,
  T_HOURS_AT,
  T_INTEREST,
  T_LAST_SEEN,
  T_LAST_VARIANT,
  T_RING,
  UserScalars,
} from './user-scalars.js';
import { CHANNELS, type Channel, type PreferenceUpdate } from './types.js';

// The parts of a user's state, for the modules that imported them from here.
export {
  DEFAULT_CHANNEL_MASK,
  USER_BOUNDS,
  append,
  flatText,
  noneYet,
  type PendingPush,
  type RecentPush,
} from './user-parts.js';

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

const DEFAULT_PREFS: Readonly<UserPrefs> = Object.freeze(new UserPrefs());

/** A value outside a small field's range is a corrupt record (decodeUser) or a bug: refused. */
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
  /**
   * Hour-of-week engagement counts (saturating, halved every half-life); lazily allocated,
   * sparse while few hours are non-zero (hour-counts.ts).
   */
  hours: HourCounts | undefined;
  /**
   * Preferences, zone, learned counts, sends, pushed items, a grown `decided` ring: see
   * UserExtras.
   */
  private extras: UserExtras | undefined;
  /** Pending cart adds, item -> add time, oldest first (a RecentMap: no Map per user). */
  carts: RecentMap | undefined;
  /**
   * Recently viewed, clicked or carted items (at most USER_BOUNDS.interest): one item as its
   * string, more as a list, the first item's time in the columns (interest.ts).
   */
  interest: string | InterestList | undefined;
  /**
   * Live burst windows, least recently touched first (at most USER_BOUNDS.burstCategories of at
   * most USER_BOUNDS.burstEvents events): one flat list (burst-list.ts), as most users have one or
   * two one-event windows, where a Map per user cost about 180 B and a pair of lists per window
   * about 170 B per window (issue 12).
   */
  bursts: BurstList | undefined;
  lastTop: string | undefined;
  /**
   * PushUsers' recency list (recency-list.ts, least recently seen first), intrusive so the users
   * Map is written once per user instead of a delete and a re-insert per touch (issue 12), and
   * the user's id for eviction. Not part of the encoded state.
   */
  lruPrev: UserPushState | undefined = undefined;
  lruNext: UserPushState | undefined = undefined;
  lruId = '';

  /**
   * Where the user's scalars live (user-scalars.ts): PushUsers' columns while the state is one
   * of its users, else a slot of the state's own (decoded, created alone, or dropped: a state
   * may still be held after it left, and its slot is then another user's).
   */
  constructor(
    private cols: UserScalars = new UserScalars(),
    private slot: number = cols.alloc(),
  ) {}

  /** Moves the scalars to `slot` of `cols` (PushUsers adopting or dropping the state). */
  moveScalars(cols: UserScalars, slot: number): void {
    cols.copyFrom(this.cols, this.slot, slot);
    this.cols = cols;
    this.slot = slot;
  }

  /** Whether the scalars live in `cols`, and at which slot (-1: elsewhere). */
  slotIn(cols: UserScalars): number {
    return this.cols === cols ? this.slot : -1;
  }

  /** Event time of the user's latest event, preference or served list (-Infinity: none). */
  get lastSeen(): number {
    return this.cols.time(this.slot, T_LAST_SEEN);
  }
  set lastSeen(v: number) {
    this.cols.setTime(this.slot, T_LAST_SEEN, v);
  }
  /** Time `hours` was last halved to (learner.ts). */
  get hoursAt(): number {
    return this.cols.time(this.slot, T_HOURS_AT);
  }
  set hoursAt(v: number) {
    this.cols.setTime(this.slot, T_HOURS_AT, v);
  }
  /** Time of the oldest interest item, while there is one (interest.ts). */
  get interestTs(): number {
    return this.cols.time(this.slot, T_INTEREST);
  }
  set interestTs(v: number) {
    this.cols.setTime(this.slot, T_INTEREST, v);
  }
  /** Scheduled time of the last push's variant (the novelty penalty). */
  get lastVariantTs(): number {
    return this.cols.time(this.slot, T_LAST_VARIANT);
  }
  set lastVariantTs(v: number) {
    this.cols.setTime(this.slot, T_LAST_VARIANT, v);
  }

  private extra<K extends keyof UserExtras>(k: K): UserExtras[K] {
    return (this.extras ?? NO_EXTRAS)[k];
  }

  // As for preferences: a setter given the default allocates nothing for a user without extras.
  private setExtra<K extends keyof UserExtras>(k: K, v: UserExtras[K]): void {
    if (this.extras) this.extras[k] = v;
    else if (v !== NO_EXTRAS[k]) (this.extras = new UserExtras())[k] = v;
  }

  get tz(): string | undefined {
    return this.extra('tz');
  }
  set tz(v: string | undefined) {
    this.setExtra('tz', v);
  }
  get stats(): Float32Array | undefined {
    return this.extra('stats');
  }
  set stats(v: Float32Array | undefined) {
    this.setExtra('stats', v);
  }
  get sent(): number[] {
    return this.extra('sent');
  }
  set sent(v: number[]) {
    this.setExtra('sent', v);
  }
  get sentChannels(): number[] {
    return this.extra('sentChannels');
  }
  set sentChannels(v: number[]) {
    this.setExtra('sentChannels', v);
  }
  get lastByTrigger(): number[] | undefined {
    return this.extra('lastByTrigger');
  }
  set lastByTrigger(v: number[] | undefined) {
    this.setExtra('lastByTrigger', v);
  }
  get pushedItems(): string[] | undefined {
    return this.extra('pushedItems');
  }
  set pushedItems(v: string[] | undefined) {
    this.setExtra('pushedItems', v);
  }
  get recent(): RecentPush[] {
    return this.extra('recent');
  }
  set recent(v: RecentPush[]) {
    this.setExtra('recent', v);
  }
  get pending(): PendingPush[] {
    return this.extra('pending');
  }
  set pending(v: PendingPush[]) {
    this.setExtra('pending', v);
  }
  private get decidedList(): number[] | undefined {
    return this.extra('decidedList');
  }
  private set decidedList(v: number[] | undefined) {
    this.setExtra('decidedList', v);
  }

  private get prefs(): UserPrefs | undefined {
    return this.extra('prefs');
  }

  private ownPrefs(): UserPrefs {
    let p = this.prefs;
    if (!p) this.setExtra('prefs', (p = new UserPrefs()));
    return p;
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
    return this.cols.byte(this.slot, S_VARIANT) - 1;
  }
  set lastVariant(v: number) {
    this.cols.setByte(this.slot, S_VARIANT, fitBits(v, -1, 14, 'lastVariant') + 1);
  }
  /** Whether the user is held out (-1: not computed yet). Derived from the id: never stored. */
  get holdoutFlag(): number {
    return this.cols.byte(this.slot, S_HOLDOUT) - 1;
  }
  set holdoutFlag(v: number) {
    this.cols.setByte(this.slot, S_HOLDOUT, fitBits(v, -1, 1, 'holdoutFlag') + 1);
  }
  /** Next slot of the `decided` ring (below USER_BOUNDS.decided). */
  get decidedNext(): number {
    return this.cols.byte(this.slot, S_DECIDED_NEXT);
  }
  set decidedNext(v: number) {
    const x = fitBits(v, 0, USER_BOUNDS.decided - 1, 'decidedNext');
    this.cols.setByte(this.slot, S_DECIDED_NEXT, x);
  }

  statsArray(): Float32Array {
    return (this.stats ??= new Float32Array(ST.size));
  }

  /**
   * Ring of (key hash, decision time) pairs, NaN where unused (undefined: no decision yet).
   * Read for the encoded state: a copy when the ring is in the columns.
   */
  get decided(): number[] | undefined {
    if (this.cols.byte(this.slot, S_RING) === 0) return this.decidedList;
    const out: number[] = [];
    for (let j = 0; j < RING_SMALL; j++) out.push(this.cols.time(this.slot, T_RING + j));
    return out;
  }
  set decided(ring: number[] | undefined) {
    const small = ring?.length === RING_SMALL;
    this.cols.setByte(this.slot, S_RING, small ? 1 : 0);
    this.decidedList = small ? undefined : ring;
    if (ring && small)
      for (let j = 0; j < RING_SMALL; j++)
        this.cols.setTime(this.slot, T_RING + j, ring[j] as number);
  }

  /** True when the key was decided before; otherwise remembers it. */
  seenKey(key: string, at: number, horizonMs: number): boolean {
    const h = parseInt(key.slice(0, 13), 16);
    const { cols, slot } = this;
    const inCols = cols.byte(slot, S_RING) === 1;
    const list = this.decidedList;
    const len = inCols ? RING_SMALL : (list?.length ?? 0);
    for (let i = 0; i < len; i += 2) {
      const hash = inCols ? cols.time(slot, T_RING + i) : (list as number[])[i];
      const t = inCols ? cols.time(slot, T_RING + i + 1) : ((list as number[])[i + 1] as number);
      if (hash === h && t >= at - horizonMs) return true;
    }
    // Most users see a few decisions a day: the ring starts small and grows to its bound.
    if (len === 0 || (this.decidedNext === len / 2 && len / 2 < USER_BOUNDS.decided)) {
      const grown = new Array<number>(
        Math.min(2 * USER_BOUNDS.decided, Math.max(RING_SMALL, 2 * len)),
      ).fill(NaN);
      const old = this.decided;
      if (old) for (let j = 0; j < old.length; j++) grown[j] = old[j] as number;
      this.decided = grown;
    }
    const size = cols.byte(slot, S_RING) === 1 ? RING_SMALL : (this.decidedList as number[]).length;
    const i = this.decidedNext % (size / 2);
    if (cols.byte(slot, S_RING) === 1) {
      cols.setTime(slot, T_RING + 2 * i, h);
      cols.setTime(slot, T_RING + 2 * i + 1, at);
    } else {
      const ring = this.decidedList as number[];
      ring[2 * i] = h;
      ring[2 * i + 1] = at;
    }
    this.decidedNext = (i + 1) % USER_BOUNDS.decided;
    return false;
  }

  /** Nothing worth keeping beyond learned statistics and preferences. */
  get idle(): boolean {
    return (
      this.pending.length === 0 &&
      this.recent.length === 0 &&
      (this.carts?.length ?? 0) === 0 &&
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
