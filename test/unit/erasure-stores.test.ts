import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { userIdHasher } from '../../operators/hash-user-ids.js';
import { parseErasureMessage } from '../../pipeline/privacy/erasure-listener.js';
import { auditHasher, storedIds } from '../../pipeline/privacy/ids.js';
import { snapshotNames } from '../../pipeline/privacy/snapshot-scrub.js';
import { erasureConditions, sqlString } from '../../sinks/clickhouse-erase.js';
import { globLiteral } from '../../sinks/redis-erase.js';

describe('erasure building blocks', () => {
  it('quotes ids for ClickHouse SQL so none can end the literal', () => {
    for (const id of [`a'b`, 'a\\', `x\\'; DROP TABLE t; --`, '50%off', 'X:meta'])
      expect(sqlString(id)).toMatch(/^'(?:[^'\\]|\\.)*'$/);
    expect(sqlString(`o'neil`)).toBe(`'o\\'neil'`);
  });

  it('covers every table that holds a user id, dead letters by key and by mention', () => {
    const c = new Map(erasureConditions(['u1']).map((t) => [t.table, t.where]));
    for (const t of [
      'events',
      'recommendations',
      'served_features',
      'push_notifications',
      'push_outcomes',
    ])
      expect(c.get(t)).toBe(`user_id IN ('u1')`);
    expect(c.get('features')).toBe(`entity = 'user' AND \`key\` IN ('u1')`);
    expect(c.get('dead_letters')).toContain(`position(payload, '"u1"') > 0`);
  });

  it('escapes glob characters for SCAN MATCH', () => {
    expect(globLiteral('a*b?[c]\\')).toBe('a\\*b\\?\\[c\\]\\\\');
  });

  it('erases both the raw id and the pseudonym when pseudonyms are on, and hashes the audit', () => {
    const plain = loadConfig(undefined, {});
    expect(storedIds(plain, 'u')).toEqual(['u']);
    const hashed = loadConfig(undefined, { RECPIPE_PRIVACY_USER_ID_HASH_KEY: 'k' });
    expect(storedIds(hashed, 'u')).toEqual(['u', userIdHasher('k')('u')]);
    const audit = auditHasher(hashed)('u');
    expect(audit).toMatch(/^[0-9a-f]{64}$/);
    expect(audit).not.toBe(userIdHasher('k')('u'));
    expect(
      auditHasher(loadConfig(undefined, { RECPIPE_PRIVACY_AUDIT_KEY: 'other' }))('u'),
    ).not.toBe(auditHasher(plain)('u'));
  });

  it('finds an id in a snapshot only as a whole JSON string', () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ users: ['ab', 'x"y'] }));
    expect(snapshotNames(bytes, ['ab'])).toBe(true);
    expect(snapshotNames(bytes, ['a'])).toBe(false);
    expect(snapshotNames(bytes, ['x"y'])).toBe(true);
  });

  it('reads privacy messages, never throwing on bad ones', () => {
    expect(parseErasureMessage('{"user_id":"u","ts":5,"request_id":"r"}', 'f')).toEqual({
      requestId: 'r',
      userIds: ['u'],
      requestedMs: 5,
    });
    expect(parseErasureMessage('{"user_id":"u","ts":"2026-01-01T00:00:00Z"}', 'f')).toMatchObject({
      requestId: 'f',
      requestedMs: Date.UTC(2026, 0, 1),
    });
    for (const bad of ['', 'null', '[]', '{"user_id":""}', '{"user_id":"a\\u0001"}', '{"ts":1}'])
      expect(parseErasureMessage(bad, 'f')).toBeUndefined();
  });
});
