import { firstValueFrom, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConsentRegistry } from '../../privacy/consent.js';
import type { PreferenceUpdate } from '../../push/types.js';
import { restoreWithheld } from '../../operators/restore-withheld.js';
import type { GraphBatch, SourcedEvent } from '../../operators/types.js';
import { withholdOptedOut } from '../../operators/withhold-opted-out.js';

const channels = { push: true, email: false, sms: false, in_app: true };
const pref = (userId: string, personalization?: boolean): PreferenceUpdate => ({
  userId,
  ts: 1,
  channels,
  ...(personalization !== undefined && { personalization }),
});
const ev = (userId: string, offset: number): SourcedEvent =>
  ({
    topic: 'clickstream',
    partition: 0,
    offset,
    event: { eventId: `e${offset}`, ts: offset, userId, itemId: 'i', type: 'view' },
  }) as SourcedEvent;
const batch = (events: SourcedEvent[], preferences?: PreferenceUpdate[]): GraphBatch =>
  ({
    seq: 0,
    commits: [],
    messages: events.length,
    events,
    items: [],
    duplicates: 0,
    deadLetters: [],
    recommendations: [],
    purchases: new Map(),
    features: [],
    lateFeatureEvents: 0,
    watermark: 0,
    ...(preferences && { preferences }),
  }) as GraphBatch;

describe('ConsentRegistry', () => {
  it('the latest message per user wins and changes are reported once', () => {
    const c = new ConsentRegistry();
    c.apply([pref('a', false), pref('b', false), pref('b', true), pref('c')]);
    expect(c.isOptedOut('a')).toBe(true);
    expect(c.isOptedOut('b')).toBe(false);
    expect(c.isOptedOut('c')).toBe(false);
    expect([...c.takeChanges()]).toEqual([
      ['a', true],
      ['b', false],
    ]);
    expect(c.takeChanges().size).toBe(0);
  });

  it('is bounded, oldest opt-out first, and erasable without a change', () => {
    const c = new ConsentRegistry(2);
    c.load([['x', 1]]);
    c.apply([pref('y', false), pref('z', false)]);
    expect([c.isOptedOut('x'), c.isOptedOut('y'), c.isOptedOut('z')]).toEqual([false, true, true]);
    c.takeChanges();
    expect(c.erase('y')).toBe(true);
    expect(c.takeChanges().size).toBe(0);
  });
});

describe('withholdOptedOut / restoreWithheld', () => {
  it('hides opted-out users from the stages between, and gives every event back to the stores', async () => {
    const c = new ConsentRegistry();
    const events = [ev('a', 0), ev('b', 1), ev('a', 2)];
    const mid = await firstValueFrom(
      of(batch(events, [pref('a', false)])).pipe(withholdOptedOut(c)),
    );
    expect(mid.events.map((e) => e.offset)).toEqual([1]);
    expect(mid.withheld?.map((e) => e.offset)).toEqual([0, 2]);
    const out = await firstValueFrom(of(mid).pipe(restoreWithheld()));
    expect(out.withheld).toBeUndefined();
    expect(out.events.map((e) => e.offset).sort()).toEqual([0, 1, 2]);
    // opting back in: the next batch is personal again
    const next = await firstValueFrom(
      of(batch([ev('a', 3)], [pref('a', true)])).pipe(withholdOptedOut(c)),
    );
    expect(next.events.map((e) => e.offset)).toEqual([3]);
  });
});
