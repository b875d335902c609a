import { EVENT_TYPES, type ClickEvent, type EventType } from './event.js';

/** CONTRACT §1: a whole message may be at most 16 KiB. */
export const MAX_MESSAGE_BYTES = 16 * 1024;
const MAX_ID = 128;
const TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

export type Validation = { ok: true; event: ClickEvent } | { ok: false; reason: string };

const fail = (reason: string): Validation => ({ ok: false, reason });

/** Reason codes are stable prefixes (before ':') so metrics can group by them. */
export function validateMessage(raw: string | Buffer): Validation {
  const bytes = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (bytes > MAX_MESSAGE_BYTES) return fail(`oversized: ${bytes} bytes > ${MAX_MESSAGE_BYTES}`);
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return fail(`malformed_json: ${(err as Error).message}`);
  }
  return validateEvent(parsed);
}

export function validateEvent(value: unknown): Validation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('not_an_object: the message must be one JSON object');
  }
  const o = value as Record<string, unknown>;
  const eventId = requiredId(o, 'event_id');
  if (typeof eventId !== 'string') return eventId;
  const userId = requiredId(o, 'user_id');
  if (typeof userId !== 'string') return userId;
  const itemId = requiredId(o, 'item_id');
  if (typeof itemId !== 'string') return itemId;

  const ts = parseTimestamp(o.ts);
  if (typeof ts !== 'number') return ts;

  const type = o.type;
  if (type === undefined) return fail('missing_field: type');
  if (typeof type !== 'string' || !TYPES.has(type)) {
    return fail(
      `invalid_type: ${JSON.stringify(type).slice(0, 40)} is not one of ${EVENT_TYPES.join('|')}`,
    );
  }

  const sessionId = optionalId(o, 'session_id');
  if (typeof sessionId === 'object') return sessionId;
  const category = optionalId(o, 'category');
  if (typeof category === 'object') return category;

  const price = o.price;
  if (price !== undefined && (typeof price !== 'number' || !Number.isFinite(price) || price < 0)) {
    return fail('invalid_price: price must be a number >= 0');
  }
  const quantity = o.quantity;
  if (
    quantity !== undefined &&
    (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1)
  ) {
    return fail('invalid_quantity: quantity must be an integer >= 1');
  }
  const props = o.props;
  if (
    props !== undefined &&
    (typeof props !== 'object' || props === null || Array.isArray(props))
  ) {
    return fail('invalid_props: props must be an object');
  }

  const event: ClickEvent = {
    eventId,
    ts,
    userId,
    itemId,
    type: type as EventType,
    ...(sessionId !== undefined && { sessionId }),
    ...(category !== undefined && { category }),
    ...(price !== undefined && { price }),
    ...(quantity !== undefined && { quantity }),
    ...(props !== undefined && { props: props as Record<string, unknown> }),
  };
  return { ok: true, event };
}

function requiredId(o: Record<string, unknown>, field: string): string | Validation {
  const v = o[field];
  if (v === undefined || v === null) return fail(`missing_field: ${field}`);
  if (typeof v !== 'string') return fail(`invalid_${field}: must be a string`);
  if (v.length < 1 || v.length > MAX_ID)
    return fail(`invalid_${field}: length must be 1..${MAX_ID}`);
  return v;
}

function optionalId(o: Record<string, unknown>, field: string): string | undefined | Validation {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length < 1 || v.length > MAX_ID) {
    return fail(`invalid_${field}: must be a string of 1..${MAX_ID} chars`);
  }
  return v;
}

/** Epoch ms as a number, or an ISO-8601 string; anything before 1970 or past 2200 is a typo. */
const MAX_TS = Date.UTC(2200, 0, 1);

export function parseTimestamp(v: unknown): number | Validation {
  if (v === undefined || v === null) return fail('missing_field: ts');
  let ms: number;
  if (typeof v === 'number') ms = v;
  else if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v)) ms = Date.parse(asUtc(v));
  else return fail('invalid_ts: must be epoch milliseconds or an ISO-8601 string');
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TS) return fail('invalid_ts: out of range');
  return Math.trunc(ms);
}

/** ISO-8601 with a time but no zone is read as UTC, not as the host's local time. */
function asUtc(iso: string): string {
  return iso.length > 10 && !/(Z|[+-]\d{2}:?\d{2})$/i.test(iso) ? `${iso.replace(' ', 'T')}Z` : iso;
}
