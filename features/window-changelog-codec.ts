import { ByteReader } from '../push/codec.js';

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

/**
 * Receives one key's windows family by family and pane by pane, in the order of the record:
 * how the feature store writes a changelog record straight from its pane arrays, without
 * building PaneState objects for it (FeatureStore.writeWindows).
 */
export interface PaneSink {
  family(label: string, firedTo: number): void;
  /**
   * A pane of the last family; its counts are `counts[from, from + n)`. Unless `sketch` is
   * given, `hash` follows once per exact distinct hash.
   */
  pane(
    start: number,
    units: number,
    revenue: number,
    firstTs: number,
    lastTs: number,
    counts: ArrayLike<number>,
    from: number,
    n: number,
    sketch: Uint8Array | null | undefined,
  ): void;
  hash(h: number): void;
}

/**
 * Writes records one after another into a chunk of memory that is never overwritten, so the
 * record `end` returns is a view that stays valid (a changelog message holds it until its
 * commit) and a batch of records costs one allocation per chunk instead of one per record.
 * Counts (families, panes, hashes) are written as placeholders and patched as items follow.
 */
export class WindowsRecordWriter implements PaneSink {
  private buf: Uint8Array;
  private view: DataView;
  private n = 0;
  /** Where the record being written starts, and where its counts are. */
  private rec = 0;
  private famAt = 0;
  private paneAt = 0;
  private hashAt = 0;
  private fams = 0;
  private panes = 0;
  private hashes = 0;
  /** Encoded family labels. Bound: the labels of the feature config's families. */
  private readonly labels = new Map<string, Uint8Array>();
  private static readonly enc = new TextEncoder();

  constructor(private readonly chunkBytes = 1 << 18) {
    this.buf = new Uint8Array(chunkBytes);
    this.view = new DataView(this.buf.buffer);
  }

  /** Families written to the record since `begin`. */
  get families(): number {
    return this.fams;
  }

  begin(ts: number): void {
    this.rec = this.n;
    this.u8(VERSION);
    this.f64(ts);
    this.famAt = this.n;
    this.u32(0);
    this.fams = 0;
  }

  family(label: string, firedTo: number): void {
    let b = this.labels.get(label);
    if (b === undefined) this.labels.set(label, (b = WindowsRecordWriter.enc.encode(label)));
    this.u32(b.length);
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
    this.f64(firedTo);
    this.paneAt = this.n;
    this.u32(0);
    this.panes = 0;
    this.view.setUint32(this.famAt, ++this.fams, true);
  }

  pane(
    start: number,
    units: number,
    revenue: number,
    firstTs: number,
    lastTs: number,
    counts: ArrayLike<number>,
    from: number,
    n: number,
    sketch: Uint8Array | null | undefined,
  ): void {
    this.f64(start);
    this.f64(units);
    this.f64(revenue);
    this.f64(firstTs);
    this.f64(lastTs);
    this.u32(n);
    for (let i = 0; i < n; i++) this.u32(counts[from + i] as number);
    if (sketch) {
      this.u8(SKETCH);
      this.u32(sketch.length);
      this.room(sketch.length);
      this.buf.set(sketch, this.n);
      this.n += sketch.length;
    } else {
      this.u8(HASHES);
      this.hashAt = this.n;
      this.u32(0);
      this.hashes = 0;
    }
    this.view.setUint32(this.paneAt, ++this.panes, true);
  }

  hash(h: number): void {
    this.u32(h);
    this.view.setUint32(this.hashAt, ++this.hashes, true);
  }

  /** The record since `begin`: a view that later records never overwrite. */
  end(): Uint8Array {
    return this.buf.subarray(this.rec, this.n);
  }

  /** Drops the record since `begin` (its space is reused). */
  discard(): void {
    this.n = this.rec;
  }

  private u8(v: number): void {
    this.room(1);
    this.buf[this.n++] = v;
  }

  private u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.n, v >>> 0, true);
    this.n += 4;
  }

  private f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.n, v, true);
    this.n += 8;
  }

  /** A new chunk when the record would not fit; the record so far moves to its start. */
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const sofar = this.n - this.rec;
    const next = new Uint8Array(Math.max(this.chunkBytes, 2 * (sofar + k)));
    next.set(this.buf.subarray(this.rec, this.n));
    this.famAt -= this.rec;
    this.paneAt -= this.rec;
    this.hashAt -= this.rec;
    this.n = sofar;
    this.rec = 0;
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

/** Writes a record's windows to a sink (what the store does from its arrays). */
export function writeWindowsTo(windows: ReadonlyMap<string, KeyWindowsState>, w: PaneSink): void {
  for (const [label, key] of windows) {
    w.family(label, key.firedTo);
    for (const p of key.panes) {
      const { counts } = p;
      w.pane(p.start, p.units, p.revenue, p.firstTs, p.lastTs, counts, 0, counts.length, p.sketch);
      if (!p.sketch) for (const h of p.hashes ?? []) w.hash(h);
    }
  }
}

export function encodeUserWindows(rec: UserWindowsRecord): Uint8Array {
  const w = new WindowsRecordWriter(256);
  w.begin(rec.ts);
  writeWindowsTo(rec.windows, w);
  return w.end();
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
