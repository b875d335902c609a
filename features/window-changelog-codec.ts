import { ByteReader, ByteWriter } from '../push/codec.js';

/**
 * One pane of a key's hopping windows as plain data: the shape the feature store exports for a
 * changelog (its PaneRecord), kept structural here so the codec does not depend on how the
 * store lays panes out in memory.
 */
export interface PaneState {
  readonly start: number;
  readonly counts: readonly number[];
  readonly units: number;
  readonly revenue: number;
  readonly firstTs: number;
  readonly lastTs: number;
  /** The distinct values' 32-bit hashes while exact; `sketch` once past the exact limit. */
  readonly hashes?: readonly number[];
  readonly sketch?: Uint8Array;
}

/** One key's panes in one family (newest first) and how far its windows have fired. */
export interface KeyWindowsState {
  readonly firedTo: number;
  readonly panes: readonly PaneState[];
}

/** A user's changelog record: their newest event time and their windows per family label. */
export interface UserWindowsRecord {
  readonly ts: number;
  readonly windows: ReadonlyMap<string, KeyWindowsState>;
}

/** Bumped when the layout changes: a record of another version restores as empty (not wrong). */
const VERSION = 1;
const HASHES = 0;
const SKETCH = 1;

export function encodeUserWindows(rec: UserWindowsRecord): Uint8Array {
  const w = new ByteWriter().u8(VERSION).f64(rec.ts).u32(rec.windows.size);
  for (const [label, key] of rec.windows) {
    w.str(label).f64(key.firedTo).u32(key.panes.length);
    for (const p of key.panes) {
      w.f64(p.start).f64(p.units).f64(p.revenue).f64(p.firstTs).f64(p.lastTs);
      w.u32(p.counts.length);
      for (const c of p.counts) w.u32(c);
      if (p.sketch) w.u8(SKETCH).bytes(p.sketch);
      else {
        const hashes = p.hashes ?? [];
        w.u8(HASHES).u32(hashes.length);
        for (const h of hashes) w.u32(h);
      }
    }
  }
  return w.done();
}

/** Throws (RangeError) on bytes of another version or damaged bytes. */
export function decodeUserWindows(bytes: Uint8Array): UserWindowsRecord {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== VERSION) throw new RangeError(`feature windows: record version ${version}`);
  const ts = r.f64();
  const windows = new Map<string, KeyWindowsState>();
  for (let f = r.u32(); f > 0; f--) {
    const label = r.str();
    const firedTo = r.f64();
    const panes: PaneState[] = [];
    for (let n = r.u32(); n > 0; n--) {
      const start = r.f64();
      const units = r.f64();
      const revenue = r.f64();
      const firstTs = r.f64();
      const lastTs = r.f64();
      const counts: number[] = [];
      for (let c = r.u32(); c > 0; c--) counts.push(r.u32());
      const kind = r.u8();
      if (kind === SKETCH) {
        panes.push({ start, counts, units, revenue, firstTs, lastTs, sketch: r.bytes() });
        continue;
      }
      if (kind !== HASHES) throw new RangeError(`feature windows: pane kind ${kind}`);
      const hashes: number[] = [];
      // Hashes are signed 32-bit values in the store; written unsigned.
      for (let h = r.u32(); h > 0; h--) hashes.push(r.u32() | 0);
      panes.push({ start, counts, units, revenue, firstTs, lastTs, hashes });
    }
    windows.set(label, { firedTo, panes });
  }
  if (!r.atEnd) throw new RangeError('feature windows: trailing bytes');
  return { ts, windows };
}
