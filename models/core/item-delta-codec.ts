import { SCALARS, type AsciiItemNames, type ItemDeltaRecord } from './item-deltas.js';

/** "RID2": counters only for the items that have them, in float32. */
const MAGIC = 0x32444952;
/** "RID1": counters (float64) for every item of the record; still decoded (records a week old). */
const MAGIC_V1 = 0x31444952;
const HEADER = 48;

/**
 * Binary form of an ItemDeltaRecord: a fixed header, the numeric sections (aligned, so they
 * decode as typed-array copies rather than value by value), then the item ids as UTF-8. JSON of
 * the same record is 3-4 times larger and several times slower to parse, and every instance
 * decodes every other instance's records.
 */
export function encodeItemDeltas(r: ItemDeltaRecord): Uint8Array {
  const names = r.items.map(utf8);
  const n = r.items.length;
  const f = r.factorItems.length;
  const p = r.pairRows.length;
  const c = r.scalarItems.length;
  const numeric = 4 * (c + c * SCALARS + f + f * (r.dim + 1) + 3 * p + n);
  let text = 0;
  for (const b of names) text += typeof b === 'string' ? b.length : b.byteLength;
  const out = new Uint8Array(HEADER + numeric + text);
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, r.partition, true);
  v.setFloat64(8, r.ref, true);
  v.setUint32(16, r.events, true);
  v.setUint32(20, n, true);
  v.setUint32(24, r.dim, true);
  v.setUint32(28, f, true);
  v.setUint32(32, p, true);
  v.setUint32(36, c, true);
  v.setFloat64(40, r.last, true);
  let at = HEADER;
  const put = (a: Float64Array | Float32Array | Int32Array | Uint32Array): void => {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  };
  put(r.scalars);
  put(r.factors);
  put(r.scalarItems);
  put(r.factorItems);
  put(r.pairRows);
  put(r.pairCols);
  put(r.pairValues);
  put(Uint32Array.from(names, (b) => (typeof b === 'string' ? b.length : b.byteLength)));
  for (const b of names) {
    if (typeof b === 'string') {
      for (let c = 0; c < b.length; c++) out[at + c] = b.charCodeAt(c);
      at += b.length;
    } else {
      out.set(b, at);
      at += b.byteLength;
    }
  }
  return out;
}

const encoder = new TextEncoder();

/**
 * An ASCII id as itself (written byte by byte: item ids are nearly always ASCII, and a
 * TextEncoder call per id cost more than the rest of encoding), any other as UTF-8 bytes.
 */
function utf8(s: string): string | Uint8Array {
  for (let c = 0; c < s.length; c++) if (s.charCodeAt(c) > 0x7f) return encoder.encode(s);
  return s;
}

/** The record, or undefined for bytes that are not one (a foreign or damaged message). */
export function decodeItemDeltas(bytes: Uint8Array): ItemDeltaRecord | undefined {
  if (bytes.byteLength < HEADER) return undefined;
  // A copy: Kafka's buffers are views at arbitrary offsets, typed arrays need alignment.
  const buf = bytes.slice().buffer;
  const v = new DataView(buf);
  const magic = v.getUint32(0, true);
  if (magic !== MAGIC && magic !== MAGIC_V1) return undefined;
  const v1 = magic === MAGIC_V1;
  const n = v.getUint32(20, true);
  const dim = v.getUint32(24, true);
  const f = v.getUint32(28, true);
  const p = v.getUint32(32, true);
  const c = v1 ? n : v.getUint32(36, true);
  const counters = v1 ? 8 * n * SCALARS : 4 * (c + c * SCALARS);
  const numeric = counters + 4 * (f + f * (dim + 1) + 3 * p) + 4 * n;
  if (HEADER + numeric > buf.byteLength) return undefined;
  let at = HEADER;
  const f64 = (len: number): Float64Array => {
    const a = new Float64Array(buf, at, len);
    at += 8 * len;
    return a;
  };
  const f32 = (len: number): Float32Array => {
    const a = new Float32Array(buf, at, len);
    at += 4 * len;
    return a;
  };
  const i32 = (len: number): Int32Array => {
    const a = new Int32Array(buf, at, len);
    at += 4 * len;
    return a;
  };
  const scalars = v1 ? Float32Array.from(f64(n * SCALARS)) : f32(c * SCALARS);
  const factors = f32(f * (dim + 1));
  const scalarItems = v1 ? Int32Array.from({ length: n }, (_, k) => k) : i32(c);
  const factorItems = i32(f);
  const pairRows = i32(p);
  const pairCols = i32(p);
  const pairValues = f32(p);
  const lengths = new Uint32Array(buf, at, n);
  at += 4 * n;
  const raw = new Uint8Array(buf);
  let end = at;
  for (const len of lengths) end += len;
  if (end > raw.byteLength) return undefined;
  for (const a of [scalarItems, factorItems, pairRows, pairCols])
    for (const x of a) if (x < 0 || x >= n) return undefined;
  let ascii = true;
  for (let x = at; x < end; x++)
    if ((raw[x] as number) > 0x7f) {
      ascii = false;
      break;
    }
  const from = at;
  // Strings only when asked for: a receiver that knows most ids already resolves them from the
  // bytes (asciiNames, models/core/item-name-cache.ts) without making a string per id.
  let items: string[] | undefined;
  return {
    partition: v.getUint32(4, true),
    ref: v.getFloat64(8, true),
    last: v.getFloat64(40, true),
    events: v.getUint32(16, true),
    dim,
    get items(): readonly string[] {
      items ??= decodeNames(raw, from, lengths, ascii);
      return items;
    },
    ...(ascii && { asciiNames: { bytes: raw, from, lengths } satisfies AsciiItemNames }),
    scalarItems,
    scalars,
    factorItems,
    factors,
    pairRows,
    pairCols,
    pairValues,
  };
}

const decoder = new TextDecoder();

/** The ids of the text section: decoded at once and cut when it is ASCII (the usual case). */
function decodeNames(
  raw: Uint8Array,
  from: number,
  lengths: Uint32Array,
  ascii: boolean,
): string[] {
  let end = from;
  for (const len of lengths) end += len;
  const items: string[] = [];
  let at = from;
  if (ascii) {
    const text = decoder.decode(raw.subarray(from, end));
    for (const len of lengths) {
      items.push(text.substring(at - from, at - from + len));
      at += len;
    }
    return items;
  }
  for (const len of lengths) {
    items.push(decoder.decode(raw.subarray(at, at + len)));
    at += len;
  }
  return items;
}
