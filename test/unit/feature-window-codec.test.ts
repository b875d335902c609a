import { describe, expect, it } from 'vitest';
import { Rng } from '../../models/core/rng.js';
import {
  decodeUserWindows,
  encodeUserWindows,
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
});
