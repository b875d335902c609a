import { describe, expect, it } from 'vitest';
import { IdMap } from '../../models/core/id-map.js';
import { decodeItemDeltas, encodeItemDeltas } from '../../models/core/item-delta-codec.js';
import type { ItemDeltaRecord } from '../../models/core/item-deltas.js';
import { ItemNameCache } from '../../models/core/item-name-cache.js';

/** A record that carries only item ids (no counters, rows or pairs): what the cache reads. */
function record(items: string[]): ItemDeltaRecord {
  return {
    partition: 0,
    ref: 0,
    last: 0,
    events: 1,
    dim: 0,
    items,
    scalarItems: new Int32Array(0),
    scalars: new Float32Array(0),
    factorItems: new Int32Array(0),
    factors: new Float32Array(0),
    pairRows: new Int32Array(0),
    pairCols: new Int32Array(0),
    pairValues: new Float32Array(0),
  };
}

describe('item name cache', () => {
  it('resolves record ids from their bytes to the numbers intern gives, over many records', () => {
    let s = 7;
    const rnd = (n: number): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s % n;
    };
    const cached = new IdMap();
    const plain = new IdMap();
    const cache = new ItemNameCache(cached);
    // 3,000 distinct ids of 1 to 8 characters (short ones collide in the table often), drawn
    // into 200 records, so most lookups hit ids interned by an earlier record.
    const pool = Array.from({ length: 3_000 }, (_, k) => `${k.toString(36)}${'x'.repeat(rnd(4))}`);
    for (let r = 0; r < 200; r++) {
      const ids = Array.from({ length: 1 + rnd(60) }, () => pool[rnd(pool.length)] as string);
      const decoded = decodeItemDeltas(encodeItemDeltas(record(ids)));
      expect(decoded?.asciiNames).toBeDefined();
      if (!decoded?.asciiNames) return;
      const got = cache.resolve(decoded.asciiNames, (k) => decoded.items[k] as string);
      expect(Array.from(got)).toEqual(ids.map((id) => plain.intern(id)));
    }
    expect(cached.size).toBe(plain.size);
    for (let i = 0; i < plain.size; i++) expect(cached.name(i)).toBe(plain.name(i));
  });

  it('gives -1 for ids the full item space refuses, and does not remember them', () => {
    const items = new IdMap();
    items.setLimit(2, 'refuse');
    const cache = new ItemNameCache(items);
    const decoded = decodeItemDeltas(encodeItemDeltas(record(['a', 'b', 'c', 'a', 'c'])));
    if (!decoded?.asciiNames) throw new Error('expected ASCII names');
    const names = decoded.asciiNames;
    expect(Array.from(cache.resolve(names, (k) => decoded.items[k] as string))).toEqual([
      0, 1, -1, 0, -1,
    ]);
    expect(items.refused).toBe(2);
  });

  it('leaves records with non-ASCII ids to the strings', () => {
    const decoded = decodeItemDeltas(encodeItemDeltas(record(['plain', 'größe'])));
    expect(decoded?.asciiNames).toBeUndefined();
    expect(decoded?.items).toEqual(['plain', 'größe']);
  });
});
