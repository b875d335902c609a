import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import type { ServedRecommendation } from '../../operators/types.js';
import { stackUp } from '../../stack/stack.js';
import { createRedisSink, RedisAuthError, redisKeys, type RedisSink } from '../../sinks/redis.js';

/** A key prefix of its own per run, so runs never read each other's keys. */
const prefix = `sinks-redis-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}:`;
const cfg = loadConfig(undefined, process.env);
const keys = redisKeys(prefix);

let sink: RedisSink;
let raw: Redis;

const ourKeys = async (): Promise<string[]> => {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    out.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return out.sort();
};

const rec = (userId: string, n: number, updatedAt: number): ServedRecommendation => ({
  userId,
  items: Array.from({ length: n }, (_, i) => ({
    itemId: `item-${i}`,
    score: (n - i) / n + 0.125,
    reason: `reason ${i} for ${userId}`,
  })),
  modelVersion: `itemknn@${updatedAt}`,
  eventTs: updatedAt - 50,
  updatedAt,
});

beforeAll(async () => {
  await stackUp(cfg, () => undefined);
  sink = createRedisSink(cfg, { prefix });
  raw = new Redis(cfg.redis.url);
  raw.on('error', () => undefined); // other suites restart the shared Redis; commands still fail loudly
});

afterAll(async () => {
  const left = raw ? await ourKeys() : [];
  if (left.length > 0) await raw.del(...left);
  raw?.disconnect();
  await sink?.close();
});

describe('Redis sink on the real server', () => {
  it('reads back exactly what was written, best first, and every key has a TTL', async () => {
    await sink.ping();
    const recs = [
      rec('alice', 5, 1_700_000_000_000),
      rec('bob', 3, 1_700_000_000_500),
      rec('carol:with:colons', 1, 1_700_000_001_000),
    ];
    await sink.writeRecommendations(recs);
    for (const r of recs) {
      expect(await sink.readRecommendations(r.userId)).toEqual({
        user_id: r.userId,
        items: r.items.map((i) => ({ item_id: i.itemId, score: i.score, reason: i.reason })),
        model_version: r.modelVersion,
        updated_at: r.updatedAt,
      });
    }
    const all = await ourKeys();
    expect(all).toEqual(
      [...recs.flatMap((r) => [keys.rec(r.userId), keys.recMeta(r.userId)])].sort(),
    );
    for (const k of all) {
      const ttl = await raw.ttl(k);
      expect(ttl, k).toBeGreaterThan(0);
      expect(ttl, k).toBeLessThanOrEqual(cfg.redis.ttlSeconds);
    }
    // The documented downstream read: ZREVRANGE + HGETALL.
    expect(await raw.zrevrange(keys.rec('alice'), 0, 0)).toEqual(['item-0']);
    expect(JSON.parse((await raw.hget(keys.recMeta('alice'), 'reasons'))!)).toMatchObject({
      'item-4': 'reason 4 for alice',
    });
  });

  it('keeps item ids and reasons with quotes, slashes, unicode and prototype names as they were', async () => {
    const odd = ['a"b', 'x/y\\z', 'café ☕', '__proto__', 'constructor', '𝒳'];
    const r: ServedRecommendation = {
      userId: 'dave',
      items: odd.map((itemId, i) => ({
        itemId,
        score: 1 - i / 10,
        reason: `why "${itemId}" </script> \u0000 ${i}`,
      })),
      modelVersion: 'm@1',
      eventTs: 1,
      updatedAt: 2,
    };
    await sink.writeRecommendations([r]);
    expect(await sink.readRecommendations('dave')).toEqual({
      user_id: 'dave',
      items: r.items.map((i) => ({ item_id: i.itemId, score: i.score, reason: i.reason })),
      model_version: 'm@1',
      updated_at: 2,
    });
  });

  it('replaces the whole list on refresh, leaving no stale items', async () => {
    await sink.writeRecommendations([rec('dave', 6, 1)]);
    await sink.writeRecommendations([rec('dave', 2, 2)]);
    const got = await sink.readRecommendations('dave');
    expect(got?.items.map((i) => i.item_id)).toEqual(['item-0', 'item-1']);
    expect(got?.updated_at).toBe(2);
    // A refresh with nothing to recommend clears the list but keeps (expiring) metadata.
    await sink.writeRecommendations([rec('dave', 0, 3)]);
    expect(await sink.readRecommendations('dave')).toEqual({
      user_id: 'dave',
      items: [],
      model_version: 'itemknn@3',
      updated_at: 3,
    });
    expect(await raw.exists(keys.rec('dave'))).toBe(0);
    expect(await raw.ttl(keys.recMeta('dave'))).toBeGreaterThan(0);
  });

  it('answers null for a user with nothing served', async () => {
    expect(await sink.readRecommendations('nobody-at-all')).toBeNull();
  });

  it('keeps purchases across a restart (a new sink instance), with the history TTL', async () => {
    await sink.addPurchases([
      { userId: 'alice', itemIds: ['85123A', '71053'] },
      { userId: 'bob', itemIds: [] },
    ]);
    await sink.addPurchases([{ userId: 'alice', itemIds: ['71053', '84406B'] }]);
    const restarted = createRedisSink(cfg, { prefix });
    try {
      const loaded = await restarted.loadPurchases(['alice', 'bob']);
      expect([...loaded.keys()]).toEqual(['alice', 'bob']);
      expect([...loaded.get('alice')!].sort()).toEqual(['71053', '84406B', '85123A']);
      expect(loaded.get('bob')!.size).toBe(0);
    } finally {
      await restarted.close();
    }
    const ttl = await raw.ttl(keys.bought('alice'));
    expect(ttl).toBeGreaterThan(cfg.redis.historyTtlSeconds - 60); // the history TTL, not the recs TTL
    expect(ttl).toBeLessThanOrEqual(cfg.redis.historyTtlSeconds);
  });

  it('writes the newest window of each family, its end, and the unwindowed values, with a TTL', async () => {
    const set = (
      entity: 'user' | 'item',
      key: string,
      family: string,
      window: string | undefined,
      start: number,
      end: number,
      names: string[],
      values: number[],
      ts: number,
    ) => ({
      entity,
      key,
      family,
      ...(window !== undefined && { window }),
      windowStart: start,
      windowEnd: end,
      names,
      values,
      ts,
    });
    await sink.writeFeatures([
      set('user', 'alice', 'user_1h', '1h', 3_600_000, 7_200_000, ['views_1h'], [4], 2),
      // an older window arriving later (a late event) never overwrites the newer one
      set('user', 'alice', 'user_1h', '1h', 0, 3_600_000, ['views_1h'], [99], 3),
      set('user', 'alice', 'user_1d', '1d', 0, 86_400_000, ['carts_1d'], [1.5], 3),
      set('user', 'alice', 'user_state', undefined, 0, 0, ['affinity:a', 'price_band'], [1, 2], 3),
      set('user', 'alice', 'user_state', undefined, 0, 0, ['affinity:b'], [0.5], 4),
      set('item', '85123A', 'item_1h', '1h', 0, 3_600_000, ['views_1h'], [12], 3),
    ]);
    expect(await sink.readFeatures('user', 'alice')).toEqual({
      views_1h: 4,
      window_end_1h: 7_200_000,
      carts_1d: 1.5,
      window_end_1d: 86_400_000,
      'affinity:a': 1,
      'affinity:b': 0.5,
      price_band: 2,
    });
    expect(await sink.readFeatures('item', '85123A')).toEqual({
      views_1h: 12,
      window_end_1h: 3_600_000,
    });
    expect(await raw.ttl(keys.feature('user', 'alice'))).toBeGreaterThan(0);
    expect(await raw.ttl(keys.feature('item', '85123A'))).toBeGreaterThan(0);
  });

  it('writes every hash of a write that spans several script calls and pipelines, each with a TTL', async () => {
    // 64 hashes per call and 16 calls per pipeline: 1,100 keys cross both boundaries
    const n = 1_100;
    await sink.writeFeatures(
      Array.from({ length: n }, (_, i) => ({
        entity: 'item' as const,
        key: `many-${i}`,
        family: 'item_1h',
        window: '1h',
        windowStart: 0,
        windowEnd: 3_600_000,
        names: ['views_1h', 'buyers_1h'],
        values: [i, i % 7],
        ts: 1,
      })),
    );
    for (const i of [0, 63, 64, 1_023, 1_024, n - 1]) {
      expect(await sink.readFeatures('item', `many-${i}`)).toEqual({
        views_1h: i,
        buyers_1h: i % 7,
        window_end_1h: 3_600_000,
      });
    }
    const pipe = raw.pipeline();
    for (let i = 0; i < n; i++) pipe.ttl(keys.feature('item', `many-${i}`));
    const ttls = ((await pipe.exec()) ?? []).map(([, t]) => Number(t));
    expect(ttls.filter((t) => t > 0)).toHaveLength(n);
  });

  it('rejects fast and clearly when Redis refuses the credentials', async () => {
    // An unknown ACL user is refused whether or not the server has a password of its own.
    const url = new URL(cfg.redis.url);
    url.username = `no-such-user-${Date.now()}`;
    url.password = 'definitely-wrong';
    const bad = createRedisSink(
      { ...cfg, redis: { ...cfg.redis, url: url.toString() } },
      { prefix },
    );
    const started = Date.now();
    try {
      await expect(bad.ping()).rejects.toThrow(RedisAuthError);
      await expect(bad.readRecommendations('alice')).rejects.toThrow(
        /rejected the credentials \(WRONGPASS/,
      );
      await expect(bad.ping()).rejects.not.toThrow(/definitely-wrong/);
    } finally {
      await bad.close();
    }
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('authenticates with user and password from the URL', async () => {
    const user = `sinks-test-${Date.now().toString(36)}`;
    const password = 'p@ss:w/rd';
    await raw.call('ACL', 'SETUSER', user, 'on', `>${password}`, `~${prefix}*`, '+@all');
    const url = new URL(cfg.redis.url);
    url.username = user;
    url.password = encodeURIComponent(password);
    const authed = createRedisSink(
      { ...cfg, redis: { ...cfg.redis, url: url.toString() } },
      { prefix },
    );
    try {
      await authed.ping();
      await authed.writeRecommendations([rec('erin', 2, 10)]);
      expect((await authed.readRecommendations('erin'))?.items).toHaveLength(2);
    } finally {
      await authed.close();
      await raw.call('ACL', 'DELUSER', user);
    }
  });
});
