import { firstValueFrom, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { validatePreferenceMessage } from '../../stream/validate-preferences.js';
import { hashUserIds, userIdHasher } from '../../operators/hash-user-ids.js';
import { parseMessages } from '../../operators/parse-messages.js';

const ok = {
  user_id: 'u1',
  ts: 1_790_000_000_000,
  channels: { push: false, email: true, sms: false, in_app: true },
};
const code = (v: unknown): string => {
  const r = validatePreferenceMessage(JSON.stringify(v));
  return r.ok ? 'ok' : (r.reason.split(':')[0] ?? '');
};

describe('preferences topic (CONTRACT §5)', () => {
  it('accepts the contract’s shape, with optional personalization, tz and locale', () => {
    const r = validatePreferenceMessage(
      JSON.stringify({
        ...ok,
        personalization: false,
        tz: 'Europe/Paris',
        locale: 'de-DE',
        extra: 1,
      }),
    );
    expect(r).toEqual({
      ok: true,
      preference: {
        userId: 'u1',
        ts: 1_790_000_000_000,
        channels: { push: false, email: true, sms: false, in_app: true },
        personalization: false,
        tz: 'Europe/Paris',
        locale: 'de-DE',
      },
    });
  });

  it('treats a channel left out as not consented', () => {
    const r = validatePreferenceMessage(JSON.stringify({ ...ok, channels: { email: true } }));
    expect(r.ok && r.preference.channels).toEqual({
      push: false,
      email: true,
      in_app: false,
      sms: false,
    });
  });

  it('dead-letters what breaks the rules, with a reason code', () => {
    expect(code({ ...ok, user_id: undefined })).toBe('missing_field');
    expect(code({ ...ok, user_id: 'a\u0001b' })).toBe('invalid_id');
    expect(code({ ...ok, ts: 'yesterday' })).toBe('invalid_ts');
    expect(code({ ...ok, channels: undefined })).toBe('missing_field');
    expect(code({ ...ok, channels: [true] })).toBe('invalid_channels');
    expect(code({ ...ok, channels: { push: 'yes' } })).toBe('invalid_channels');
    expect(code({ ...ok, tz: 'Mars/Olympus' })).toBe('invalid_tz');
    expect(code({ ...ok, locale: 'en_US!' })).toBe('invalid_locale');
    expect(code({ ...ok, personalization: 'no' })).toBe('invalid_personalization');
    expect(validatePreferenceMessage('{').ok).toBe(false);
    expect(validatePreferenceMessage('x'.repeat(20_000)).ok).toBe(false);
  });

  it('is routed by topic in parseMessages, and pseudonymised with the events', async () => {
    const batch = {
      seq: 0,
      commits: [],
      items: [
        { topic: 'prefs', partition: 0, offset: 0, value: JSON.stringify(ok) },
        { topic: 'prefs', partition: 0, offset: 1, value: '{"user_id":"u2"}' },
      ],
    };
    const out = await firstValueFrom(of(batch).pipe(parseMessages(() => 5, 'items', {}, 'prefs')));
    expect(out.preferences?.map((p) => p.userId)).toEqual(['u1']);
    expect(out.deadLetters.map((d) => [d.offset, d.reason.split(':')[0]])).toEqual([
      [1, 'missing_field'],
    ]);
    const hashed = await firstValueFrom(of(out).pipe(hashUserIds('k')));
    expect(hashed.preferences?.[0]?.userId).toBe(userIdHasher('k')('u1'));
  });
});
