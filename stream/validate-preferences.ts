import { isKnownTimeZone } from '../push/clock.js';
import { CHANNELS, type Channel, type PreferenceUpdate } from '../push/types.js';
import { field, parseObjectMessage } from './message-text.js';
import { checkId, eventTimestamp, type ValidationClock } from './validate-event.js';

export type PreferenceValidation =
  { ok: true; preference: PreferenceUpdate } | { ok: false; reason: string };

const fail = (reason: string): PreferenceValidation => ({ ok: false, reason });
/** BCP 47 as far as templates care: a language subtag and optional subtags. */
const LOCALE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

/**
 * A message of the `preferences` topic (CONTRACT §5): `{user_id, ts, channels: {push, email, sms,
 * in_app: bool}, personalization?, tz?, locale?}`, under the same message rules as the
 * clickstream (size, UTF-8, depth, ids, ts). A channel missing from `channels` is not consented
 * (consent is explicit); unknown keys are ignored so producers can add fields. Never throws.
 */
export function validatePreferenceMessage(
  raw: string | Buffer,
  clock: ValidationClock = {},
): PreferenceValidation {
  const parsed = parseObjectMessage(raw);
  if (!parsed.ok) return parsed;
  const o = parsed.value;
  const rawId = field(o, 'user_id');
  if (rawId === undefined || rawId === null) return fail('missing_field: user_id');
  const userId = checkId(rawId, 'user_id');
  if (typeof userId !== 'string') return userId;
  const ts = eventTimestamp(field(o, 'ts'), clock);
  if (typeof ts !== 'number') return ts;
  const ch = field(o, 'channels');
  if (ch === undefined || ch === null) return fail('missing_field: channels');
  if (typeof ch !== 'object' || Array.isArray(ch))
    return fail('invalid_channels: channels must be an object of booleans');
  const channels = {} as Record<Channel, boolean>;
  for (const c of CHANNELS) {
    const b = field(ch as Record<string, unknown>, c) ?? false;
    if (typeof b !== 'boolean') return fail(`invalid_channels: channels.${c} must be a boolean`);
    channels[c] = b;
  }
  const personalization = field(o, 'personalization');
  const tz = field(o, 'tz');
  const locale = field(o, 'locale');
  if (personalization !== undefined && typeof personalization !== 'boolean')
    return fail('invalid_personalization: must be a boolean');
  if (tz !== undefined && (typeof tz !== 'string' || tz.length > 64 || !isKnownTimeZone(tz)))
    return fail('invalid_tz: must be an IANA time zone name such as Europe/Paris');
  if (
    locale !== undefined &&
    (typeof locale !== 'string' || locale.length > 35 || !LOCALE.test(locale))
  )
    return fail('invalid_locale: must be a BCP 47 tag such as en-GB');
  return {
    ok: true,
    preference: {
      userId,
      ts,
      channels,
      ...(personalization !== undefined && { personalization }),
      ...(tz !== undefined && { tz }),
      ...(locale !== undefined && { locale }),
    },
  };
}
