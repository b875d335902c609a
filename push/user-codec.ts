import { ByteReader, ByteWriter } from './codec.js';
import { compactHours, denseHours } from './hour-counts.js';
import {
  interestKeyAt,
  interestSize,
  interestTimeAt,
  setEntry,
  storeInterest,
  type InterestEntries,
} from './interest.js';
import { keyAt, recentSet, recentSize, timeAt, type RecentMap } from './recent-map.js';
import {
  CHANNELS,
  PUSH_TRIGGERS,
  VARIANTS,
  type Channel,
  type PushAction,
  type PushCandidate,
  type PushTrigger,
  type Variant,
} from './types.js';
import {
  burstListOf,
  burstWindowCount,
  nextWindow,
  readWindow,
  windowSize,
  writeWindow,
  type BurstWindow,
} from './burst-list.js';
import { UserPushState, append, flatText, noneYet, type PendingPush } from './user-state.js';

/** An empty decoded list as the shared empty one (user-state.ts, noneYet). */
const orNone = (a: number[]): number[] => (a.length === 0 ? noneYet() : a);

/**
 * One user's push state as bytes and back (snapshots, and the per-user changelogs built on them):
 * a version byte, then every field of UserPushState in declaration order, little-endian.
 */
const VERSION = 1;

function writeCandidate(w: ByteWriter, c: PushCandidate): void {
  w.str(c.userId).u8(PUSH_TRIGGERS.indexOf(c.trigger)).str(c.itemId).strs(c.itemIds);
  w.f64(c.ts).str(c.detail);
  const vars = Object.entries(c.vars ?? {});
  w.u32(vars.length);
  for (const [k, v] of vars) w.str(k).str(v);
}

function readCandidate(r: ByteReader): PushCandidate {
  const userId = r.str();
  const trigger = PUSH_TRIGGERS[r.u8()] as PushTrigger;
  const itemId = r.str();
  const itemIds = r.strs();
  const ts = r.f64();
  const detail = r.str();
  const n = r.u32();
  const vars: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const k = r.str();
    // Keys are template placeholders we wrote ourselves, but never trust bytes with __proto__.
    const v = r.str();
    // trusted-key: __proto__ is refused, so a decoded key can only add an own property
    if (k !== '__proto__') vars[k] = v;
  }
  return { userId, trigger, itemId, itemIds, ts, detail, ...(n > 0 && { vars }) };
}

function writeAction(w: ByteWriter, a: PushAction): void {
  w.u8(a.channel === '' ? 255 : CHANNELS.indexOf(a.channel)).u8(VARIANTS.indexOf(a.variant));
  w.f64(a.propensity).f64(a.variantPropensity).f64(a.scheduledFor).f64(a.pOpen).f64(a.uplift);
  w.str(a.locale).f64(a.load).str(a.summary);
}

function readAction(r: ByteReader): PushAction {
  const c = r.u8();
  return {
    channel: c === 255 ? '' : (CHANNELS[c] as Channel),
    variant: VARIANTS[r.u8()] as Variant,
    propensity: r.f64(),
    variantPropensity: r.f64(),
    scheduledFor: r.f64(),
    pOpen: r.f64(),
    uplift: r.f64(),
    locale: r.str(),
    load: r.f64(),
    summary: r.str(),
  };
}

/** Bytes as a string of one byte per character (a one-byte string: 16 B + one per byte). */
function bytesToText(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096)
    s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + 4096)));
  return b.length > 4096 ? flatText(s) : s;
}

function textToBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** A pending push's candidate and action as kept in the user's state (PendingPush.packed). */
export function packPending(c: PushCandidate, a: PushAction): string {
  const w = new ByteWriter();
  writeCandidate(w, c);
  writeAction(w, a);
  return bytesToText(w.done());
}

/** The candidate and action of a pending push, as decodeUser would give them after a restore. */
export function unpackPending(p: PendingPush): { c: PushCandidate; action: PushAction } {
  const r = new ByteReader(textToBytes(p.packed));
  const c = readCandidate(r);
  const action = readAction(r);
  return { c, action };
}

/**
 * One writer for every record (encodeUser does not nest): a fresh one per user started at 256
 * bytes and doubled to the state's size, which was 5-6 % of the job's CPU late in a soak.
 * done() copies the bytes out, so the buffer is reused safely.
 */
const SCRATCH = new ByteWriter();

/** Serialises one user's state (versioned, little-endian; see codec.ts). */
export function encodeUser(s: UserPushState): Uint8Array {
  encodeUserTo(SCRATCH.reset(), s);
  return SCRATCH.done();
}

/**
 * Appends one user's record to `w` (encodeUser's bytes): a batch's records go into one writer
 * and are cut out of one copy (engine.takeChanges), where a copy per user cost 400 ms a batch.
 */
export function encodeUserTo(w: ByteWriter, s: UserPushState): void {
  w.u8(VERSION);
  w.f64(s.lastSeen)
    .f64(s.prefTs)
    .u8(s.channelMask)
    .u8(s.personalization ? 1 : 0);
  w.optStr(s.tz)
    .u8(s.tzPinned ? 1 : 0)
    .optStr(s.locale);
  w.bytes(s.hours !== undefined ? denseHours(s.hours) : new Uint8Array(0)).f64(s.hoursAt);
  w.f32s(s.stats ?? new Float32Array(0));
  w.f64(s.lastVariant).f64(s.lastVariantTs);
  w.f64s(s.sent).f64s(s.sentChannels);
  w.f64s(s.lastByTrigger ?? []);
  w.strs(s.pushedItems ?? []);
  w.f64s(s.decided ?? []).u32(s.decidedNext);
  w.u32(s.recent.length);
  for (const p of s.recent) {
    w.str(p.pushId).u8(PUSH_TRIGGERS.indexOf(p.trigger));
    w.u8(p.channel === '' ? 255 : CHANNELS.indexOf(p.channel)).u8(VARIANTS.indexOf(p.variant));
    w.f64(p.ts)
      .strs(p.items)
      .u8((p.holdout ? 1 : 0) | (p.opened ? 2 : 0) | (p.converted ? 4 : 0));
    w.f64(p.load);
  }
  w.u32(s.pending.length);
  for (const p of s.pending) {
    // the packed bytes are what writeCandidate and writeAction gave: copied as they are (decoding
    // and writing them again gives the same bytes, the round trip restores rely on)
    w.str(p.key).latin1(p.packed).strs(p.bought);
  }
  const map = (m: RecentMap | undefined): void => {
    const n = m ? recentSize(m) : 0;
    w.u32(n);
    for (let i = 0; i < n; i++) w.str(keyAt(m as RecentMap, i)).f64(timeAt(m as RecentMap, i));
  };
  map(s.carts);
  const interest = interestSize(s);
  w.u32(interest);
  for (let i = 0; i < interest; i++) w.str(interestKeyAt(s, i)).f64(interestTimeAt(s, i));
  const bursts = s.bursts ?? [];
  w.u32(burstWindowCount(bursts));
  for (let at = 0; at < bursts.length; at = nextWindow(bursts, at)) {
    const win = readWindow(bursts, at);
    w.str(win.category).f64s(win.times).f64s(win.weights);
    w.strs(win.items).f64(win.firedAt);
  }
  w.optStr(s.lastTop);
}

/**
 * The newest activity a record holds (its user's last event or preference time), read from the
 * header without decoding the rest: what an erasure is compared with on restore.
 */
export function encodedUserActivity(bytes: Uint8Array): number {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== VERSION) throw new RangeError(`push state: unknown version ${version}`);
  const lastSeen = r.f64();
  return Math.max(lastSeen, r.f64());
}

export function decodeUser(bytes: Uint8Array): UserPushState {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== VERSION) throw new RangeError(`push state: unknown version ${version}`);
  const s = new UserPushState();
  s.lastSeen = r.f64();
  s.prefTs = r.f64();
  s.channelMask = r.u8();
  s.personalization = r.u8() === 1;
  s.tz = r.optStr();
  s.tzPinned = r.u8() === 1;
  s.locale = r.optStr();
  const hours = r.bytes();
  if (hours.length > 0) s.hours = compactHours(hours);
  s.hoursAt = r.f64();
  const stats = r.f32s();
  if (stats.length > 0) s.stats = stats;
  s.lastVariant = r.f64();
  s.lastVariantTs = r.f64();
  s.sent = orNone(r.f64s());
  s.sentChannels = orNone(r.f64s());
  const last = r.f64s();
  if (last.length > 0) s.lastByTrigger = last;
  const pushed = r.strs();
  if (pushed.length > 0) s.pushedItems = pushed;
  const decided = r.f64s();
  if (decided.length > 0) s.decided = decided;
  s.decidedNext = r.u32();
  for (let n = r.u32(), i = 0; i < n; i++) {
    const pushId = r.str();
    const trigger = PUSH_TRIGGERS[r.u8()] as PushTrigger;
    const ch = r.u8();
    const variant = VARIANTS[r.u8()] as Variant;
    const ts = r.f64();
    const items = r.strs();
    const flags = r.u8();
    s.recent = append(s.recent, {
      pushId,
      trigger,
      channel: ch === 255 ? '' : (CHANNELS[ch] as Channel),
      variant,
      ts,
      items,
      holdout: (flags & 1) !== 0,
      opened: (flags & 2) !== 0,
      converted: (flags & 4) !== 0,
      load: r.f64(),
    });
  }
  for (let n = r.u32(), i = 0; i < n; i++) {
    const key = r.str();
    const packed = packPending(readCandidate(r), readAction(r));
    s.pending = append(s.pending, { key, packed, bought: r.strs() });
  }
  // keys are written once each (Map and RecentMap keep them unique), so set() only appends
  const map = (): RecentMap | undefined => {
    const n = r.u32();
    if (n === 0) return undefined;
    let m: RecentMap = [];
    for (let i = 0; i < n; i++) m = recentSet(m, r.str(), r.f64());
    return m;
  };
  s.carts = map();
  const interest: InterestEntries = { keys: [], times: [] };
  // as for the carts: a key written twice (never by encodeUser) keeps its first place
  for (let n = r.u32(), i = 0; i < n; i++) setEntry(interest, r.str(), r.f64());
  storeInterest(s, interest);
  const windows: BurstWindow[] = [];
  let size = 0;
  for (let n = r.u32(), i = 0; i < n; i++) {
    const category = r.str();
    const times = r.f64s();
    const weights = r.f64s();
    if (weights.length !== times.length)
      throw new RangeError('push state: burst times and weights differ');
    const items = r.strs();
    // the trigger appends and drops an item with each time: other counts are a corrupt record
    if (items.length !== times.length)
      throw new RangeError('push state: burst items and times differ');
    const win: BurstWindow = { category, firedAt: r.f64(), items, times, weights };
    windows.push(win);
    size += windowSize(win);
  }
  if (size > 0) {
    const list = burstListOf(size);
    for (let at = 0, k = 0; k < windows.length; k++)
      at = writeWindow(list, at, windows[k] as BurstWindow);
    s.bursts = list;
  }
  s.lastTop = r.optStr();
  if (!r.atEnd) throw new RangeError('push state: trailing bytes');
  return s;
}
