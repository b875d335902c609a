import { EVENT_TYPES, type ClickEvent, type EventType } from '../models/event.js';
import { field, idProblem, parseObjectMessage } from './message-text.js';

export { MAX_MESSAGE_BYTES } from './message-text.js';
const MAX_ID = 128;
const TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);
/** CONTRACT §5 number ranges. */
export const MAX_QUANTITY = 1_000_000;
export const MAX_PRICE = 1e9;
/** CONTRACT §5: `pipeline.maxFutureSkewMs` defaults to 10 minutes. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 10 * 60_000;

export type Validation = { ok: true; event: ClickEvent } | { ok: false; reason: string };

/**
 * What validation compares event time against. The wall clock in both runtimes: historical files
 * (replay) are never ahead of it, and a producer's clock may be at most `maxFutureSkewMs` ahead.
 */
export interface ValidationClock {
  readonly now?: () => number;
  readonly maxFutureSkewMs?: number;
}

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/**
 * Reason codes are stable prefixes (before ':') so metrics can group by them. Never throws:
 * every way a message can be wrong is a reason (docs/events.md lists them).
 */
export function validateMessage(raw: string | Buffer, clock: ValidationClock = {}): Validation {
  const parsed = parseObjectMessage(raw);
  if (!parsed.ok) return parsed;
  return validateEvent(parsed.value, clock);
}

export function validateEvent(value: unknown, clock: ValidationClock = {}): Validation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('not_an_object: the message must be one JSON object');
  }
  const o = value as Readonly<Record<string, unknown>>;
  const eventId = requiredId(o, 'event_id');
  if (typeof eventId !== 'string') return eventId;
  const userId = requiredId(o, 'user_id');
  if (typeof userId !== 'string') return userId;
  const itemId = requiredId(o, 'item_id');
  if (typeof itemId !== 'string') return itemId;

  const ts = eventTimestamp(field(o, 'ts'), clock);
  if (typeof ts !== 'number') return ts;

  const type = field(o, 'type');
  if (type === undefined) return fail('missing_field: type');
  if (typeof type !== 'string' || !TYPES.has(type)) {
    return fail(`invalid_type: ${describe(type)} is not one of ${EVENT_TYPES.join('|')}`);
  }

  const sessionId = optionalId(o, 'session_id');
  if (typeof sessionId === 'object') return sessionId;
  const category = optionalId(o, 'category');
  if (typeof category === 'object') return category;

  const price = field(o, 'price');
  if (price !== undefined) {
    const bad = priceProblem(price);
    if (bad) return fail(bad);
  }
  const quantity = field(o, 'quantity');
  if (quantity !== undefined) {
    // CONTRACT §1's rule keeps its code; §5's bounds on top of it are `invalid_number`
    if (typeof quantity !== 'number' || (Number.isFinite(quantity) && quantity < 1))
      return fail('invalid_quantity: quantity must be an integer >= 1');
    if (!Number.isFinite(quantity) || quantity > MAX_QUANTITY)
      return fail(`invalid_number: quantity must be an integer within 1..${MAX_QUANTITY}`);
    if (!Number.isInteger(quantity))
      return fail('invalid_quantity: quantity must be an integer >= 1');
  }
  const props = field(o, 'props');
  let propsJson: string | undefined;
  if (props !== undefined) {
    if (typeof props !== 'object' || props === null || Array.isArray(props))
      return fail('invalid_props: props must be an object');
    // Serialised once, here: what the sinks write is exactly what passed validation.
    try {
      propsJson = JSON.stringify(props);
    } catch (err) {
      return fail(`invalid_props: not serialisable (${(err as Error).message.slice(0, 100)})`);
    }
  }

  const event: ClickEvent = {
    eventId,
    ts,
    userId,
    itemId,
    type: type as EventType,
    ...(sessionId !== undefined && { sessionId }),
    ...(category !== undefined && { category }),
    ...(price !== undefined && { price: price as number }),
    ...(quantity !== undefined && { quantity }),
    ...(propsJson !== undefined && {
      props: props as Readonly<Record<string, unknown>>,
      propsJson,
    }),
  };
  return { ok: true, event };
}

/**
 * CONTRACT §1's rule (a number >= 0) keeps its code `invalid_price`; §5's bounds on top of it
 * (finite, at most 1e9) are `invalid_number`.
 */
export function priceProblem(price: unknown): string | undefined {
  if (typeof price !== 'number' || price < 0) return 'invalid_price: price must be a number >= 0';
  if (!Number.isFinite(price) || price > MAX_PRICE)
    return `invalid_number: price must be finite and within 0..${MAX_PRICE}`;
  return undefined;
}

/** A short, safe rendering of a wrong value for a reason text (never a recursive stringify). */
function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 40));
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : String(v).slice(0, 40);
}

function requiredId(
  o: Readonly<Record<string, unknown>>,
  name: string,
): string | { ok: false; reason: string } {
  const v = field(o, name);
  if (v === undefined || v === null) return fail(`missing_field: ${name}`);
  return checkId(v, name);
}

function optionalId(
  o: Readonly<Record<string, unknown>>,
  name: string,
): string | undefined | { ok: false; reason: string } {
  const v = field(o, name);
  if (v === undefined || v === null) return undefined;
  return checkId(v, name);
}

/**
 * Length in characters (code points), as docs/events.schema.json's maxLength counts them: an
 * emoji is one character, not the two UTF-16 units of `length`.
 */
function characters(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // a high surrogate followed by a low one is one character
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Type and length are the field's own code (CONTRACT §1); characters are `invalid_id` (§5). */
export function checkId(v: unknown, name: string): string | { ok: false; reason: string } {
  // `length` never undercounts, so only a long id needs its characters counted
  if (typeof v !== 'string' || v.length < 1 || (v.length > MAX_ID && characters(v) > MAX_ID))
    return fail(`invalid_${name}: must be a string of 1..${MAX_ID} chars`);
  const problem = idProblem(v);
  return problem === undefined ? v : fail(`invalid_id: ${name} ${problem}`);
}

/** Epoch ms as a number, or an ISO-8601 string; anything before 1970 or past 2200 is a typo. */
const MAX_TS = Date.UTC(2200, 0, 1);

/** `ts` as epoch ms: strict parsing (parseTimestamp), then no further ahead than the skew bound. */
export function eventTimestamp(
  v: unknown,
  clock: ValidationClock = {},
): number | { ok: false; reason: string } {
  const ts = parseTimestamp(v);
  if (typeof ts !== 'number') return ts;
  const now = (clock.now ?? Date.now)();
  const skew = clock.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
  if (ts > now + skew)
    return fail(
      `ts_in_future: ${new Date(ts).toISOString()} is more than ${skew} ms ahead of the clock`,
    );
  return ts;
}

export function parseTimestamp(v: unknown): number | { ok: false; reason: string } {
  if (v === undefined || v === null) return fail('missing_field: ts');
  let ms: number;
  if (typeof v === 'number') ms = v;
  else if (typeof v === 'string') {
    const iso = parseIso8601(v);
    if (iso === undefined) return fail('invalid_ts: not an existing ISO-8601 date and time');
    ms = iso;
  } else return fail('invalid_ts: must be epoch milliseconds or an ISO-8601 string');
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TS) return fail('invalid_ts: out of range');
  return Math.trunc(ms);
}

// date, optional time (T or a space) with optional seconds and fraction, optional zone
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Strict ISO-8601: the date must exist (`2024-02-30` does not, where Date.parse would roll it into
 * March), hours 0..23, minutes and seconds 0..59. No zone means UTC, not the host's local time.
 */
export function parseIso8601(s: string): number | undefined {
  const m = ISO.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(sec);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offset = 0;
  if (zone.toUpperCase() !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = zone.length > 3 ? Number(zone.slice(-2)) : 0;
    if (zh > 23 || zm > 59) return undefined;
    offset = (zone[0] === '-' ? -1 : 1) * (zh * 60 + zm) * 60_000;
  }
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  const t = new Date(0);
  t.setUTCFullYear(year, month - 1, day);
  t.setUTCHours(hour, minute, second, ms);
  return t.getTime() - offset;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
