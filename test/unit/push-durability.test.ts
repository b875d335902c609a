import { describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import type { OutMessage } from '../../kafka/transactional-producer.js';
import { featureChangelogTopic } from '../../pipeline/runtime/feature-changelog.js';
import { pushChangelogTopic } from '../../pipeline/runtime/push-changelog.js';
import { PushDurability } from '../../pipeline/runtime/push-durability.js';

const log = { info: () => undefined, warn: () => undefined };

describe('PushDurability', () => {
  const owned = new Set([0, 2]);
  const d = new PushDurability(
    configSchema.parse({}),
    { push: undefined, claims: undefined, group: 'g', topic: 'in' },
    log,
    (p) => owned.has(p),
  );
  const topic = pushChangelogTopic('g');
  const rec = (key: string, partition: number, value: string | null): OutMessage => ({
    topic,
    partition,
    key,
    value,
  });

  it('keeps the last changelog record per user of a transaction, and every other message', () => {
    const push: OutMessage = { topic: 'push', key: 'a', value: 'p' };
    const out = [rec('a', 0, '1'), push, rec('b', 0, '1'), rec('a', 0, '2'), rec('b', 0, null)];
    expect(d.compact(out)).toEqual([push, rec('a', 0, '2'), rec('b', 0, null)]);
  });

  it('compacts each changelog topic on its own (a user has a push and a feature record)', () => {
    const f = (key: string, value: string | null): OutMessage => ({
      topic: featureChangelogTopic('g'),
      partition: 0,
      key,
      value,
    });
    const out = [rec('a', 0, '1'), f('a', 'w1'), rec('a', 0, '2'), f('a', 'w2'), f('b', null)];
    expect(d.compact(out)).toEqual([rec('a', 0, '2'), f('a', 'w2'), f('b', null)]);
    expect(d.mayCommit(f('a', 'w'))).toBe(true);
    expect(d.mayCommit({ ...f('a', 'w'), partition: 1 })).toBe(false);
  });

  it('commits changelog records of owned partitions only', () => {
    expect(d.mayCommit(rec('a', 0, '1'))).toBe(true);
    expect(d.mayCommit(rec('a', 1, '1'))).toBe(false);
    expect(d.mayCommit({ topic: 'push', partition: 1, value: 'x' })).toBe(true);
  });
});
