import { describe, expect, it } from 'vitest';
import { Rng } from '../../models/core/rng.js';
import { EVENT_TYPES, type ClickEvent } from '../../models/event.js';
import { FeatureStore } from '../../features/feature-store.js';
import type { FeatureEntity } from '../../features/types.js';
import {
  decodeUserWindows,
  encodeUserWindows,
  WindowsRecordWriter,
  type KeyWindowsState,
  type PaneState,
  type UserWindowsRecord,
} from '../../features/window-changelog-codec.js';

/** A random record of the shapes the store exports: exact panes, sketched panes, no panes. */
function randomRecord(rng: Rng): UserWindowsRecord {
  const windows = new Map<string, KeyWindowsState>();
  for (const label of ['5m', '1h', '24h'].slice(0, rng.int(4))) {
    const panes: PaneState[] = [];
    for (let i = rng.int(5); i > 0; i--) {
      const start = 1_700_000_000_000 + rng.int(1_000) * 60_000;
      const base = {
        start,
        counts: Array.from({ length: 6 }, () => rng.int(50)),
        units: rng.int(9),
        revenue: rng.next() * 1_000,
        firstTs: start + rng.int(30_000),
        lastTs: start + 30_000 + rng.int(30_000),
      };
      panes.push(
        rng.next() < 0.3
          ? { ...base, sketch: Uint8Array.from({ length: 16 }, () => rng.int(256)) }
          : { ...base, hashes: Array.from({ length: rng.int(7) }, () => rng.nextU32() | 0) },
      );
    }
    windows.set(label, { firedTo: rng.next() < 0.5 ? -Infinity : 1_700_000_000_000, panes });
  }
  return { ts: 1_700_000_000_000 + rng.int(1e6), windows };
}

describe('feature window changelog codec', () => {
  it('round-trips records of every shape exactly', () => {
    const rng = new Rng(13);
    for (let i = 0; i < 300; i++) {
      const rec = randomRecord(rng);
      expect(decodeUserWindows(encodeUserWindows(rec))).toEqual(rec);
    }
  });

  it('refuses another version, a truncated record and trailing bytes', () => {
    const bytes = encodeUserWindows(randomRecord(new Rng(7)));
    const other = bytes.slice();
    other[0] = 9;
    expect(() => decodeUserWindows(other)).toThrow(RangeError);
    expect(() => decodeUserWindows(bytes.subarray(0, bytes.length - 1))).toThrow(RangeError);
    expect(() => decodeUserWindows(Uint8Array.from([...bytes, 0]))).toThrow(RangeError);
  });

  it('a record written straight from the store equals the encoding of its exported windows', () => {
    const rng = new Rng(29);
    let sketched = 0;
    let spilled = 0;
    for (let round = 0; round < 8; round++) {
      // a low exact limit: panes go past the inline hashes (exact, spilled) and into a sketch
      const store = new FeatureStore({ distinctExactLimit: 8 });
      const t0 = Date.UTC(2026, 11, 1);
      let ts = t0;
      for (let b = 0; b < 10; b++) {
        const events: ClickEvent[] = [];
        for (let i = 0; i < 60; i++) {
          ts += rng.int(120_000);
          const user = rng.next() < 0.3 ? 'u0' : `u${rng.int(12)}`;
          const item = user === 'u0' ? `i${rng.int(40)}` : `i${rng.int(6)}`;
          const type = EVENT_TYPES[rng.int(EVENT_TYPES.length)];
          events.push({
            eventId: `e${round}-${b}-${i}`,
            ts: ts - rng.int(30_000),
            userId: user,
            itemId: item,
            type,
            price: 1 + rng.int(40),
            category: `c${rng.int(3)}`,
          } as ClickEvent);
        }
        store.ingest(events);
      }
      // small chunks: records cross chunk boundaries; every earlier record must stay intact
      const w = new WindowsRecordWriter(512);
      const written: [Uint8Array, Uint8Array][] = [];
      for (const entity of ['user', 'item'] as FeatureEntity[])
        store.forEachKey(entity, (id) => {
          const windows = store.exportWindows(entity, id);
          w.begin(ts);
          store.writeWindows(entity, id, w);
          if (windows === undefined) {
            expect(w.families).toBe(0);
            w.discard();
            return;
          }
          written.push([w.end(), encodeUserWindows({ ts, windows })]);
        });
      expect(written.length).toBeGreaterThan(10);
      for (const [direct, viaObjects] of written) {
        expect(direct).toEqual(viaObjects);
        for (const key of decodeUserWindows(direct).windows.values())
          for (const p of key.panes) {
            if (p.sketch) sketched++;
            else if ((p.hashes?.length ?? 0) > 4) spilled++;
          }
      }
      expect(written.some(([b]) => b.length > 512)).toBe(true);
    }
    expect(sketched).toBeGreaterThan(0);
    expect(spilled).toBeGreaterThan(0);
  });
});
