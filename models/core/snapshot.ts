import type { NumericArray } from './arrays.js';
import { checkModel } from './options.js';

/**
 * Binary snapshot: "RPS1", u32 LE length of a JSON header, the header, padding to 8 bytes, then
 * the raw bytes of every typed array (each 8-aligned). The JSON holds scalars and id lists; the
 * arrays are copied verbatim so a restored model scores bit-for-bit like the original.
 */
export interface SnapshotData {
  meta: Record<string, unknown>;
  arrays: Record<string, NumericArray>;
}

const MAGIC = [0x52, 0x50, 0x53, 0x31]; // "RPS1"

type Kind = 'f32' | 'f64' | 'i32' | 'u32' | 'u8';

function kindOf(a: NumericArray): Kind {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof Uint32Array) return 'u32';
  return 'u8';
}

function make(kind: Kind, buf: ArrayBuffer, offset: number, length: number): NumericArray {
  switch (kind) {
    case 'f32':
      return new Float32Array(buf, offset, length);
    case 'f64':
      return new Float64Array(buf, offset, length);
    case 'i32':
      return new Int32Array(buf, offset, length);
    case 'u32':
      return new Uint32Array(buf, offset, length);
    case 'u8':
      return new Uint8Array(buf, offset, length);
  }
}

const align8 = (n: number): number => (n + 7) & ~7;

export function encodeSnapshot(data: SnapshotData): Uint8Array {
  const layout: { name: string; kind: Kind; length: number; offset: number }[] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(data.arrays)) {
    layout.push({ name, kind: kindOf(a), length: a.length, offset });
    offset = align8(offset + a.byteLength);
  }
  const header = new TextEncoder().encode(JSON.stringify({ meta: data.meta, layout }));
  const blobStart = align8(8 + header.length);
  const out = new Uint8Array(blobStart + offset);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, header.length, true);
  out.set(header, 8);
  for (const l of layout) {
    // trusted-key: array names are written by our own snapshot code
    const a = data.arrays[l.name];
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), blobStart + l.offset);
  }
  return out;
}

export function decodeSnapshot(bytes: Uint8Array): SnapshotData {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error('not a recpipe model snapshot (bad magic)');
  }
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(
    4,
    true,
  );
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as {
    meta: Record<string, unknown>;
    layout: { name: string; kind: Kind; length: number; offset: number }[];
  };
  const blobStart = align8(8 + headerLen);
  // One aligned copy: the input may sit at any byte offset, typed views need alignment.
  const blob = bytes.slice(blobStart);
  const arrays: Record<string, NumericArray> = {};
  // trusted-key: array names are written by our own snapshot code
  for (const l of header.layout) arrays[l.name] = make(l.kind, blob.buffer, l.offset, l.length);
  return { meta: header.meta, arrays };
}

/** Typed accessors for restore(): a snapshot from another model or version fails loudly. */
export class SnapshotReader {
  constructor(
    private readonly data: SnapshotData,
    private readonly prefix = '',
  ) {}

  scope(prefix: string): SnapshotReader {
    return new SnapshotReader(this.data, this.prefix + prefix);
  }

  private array(name: string): NumericArray {
    // trusted-key: names are code constants
    const a = this.data.arrays[this.prefix + name];
    if (!a) throw new Error(`model snapshot lacks array ${this.prefix + name}`);
    return a;
  }

  f32(name: string): Float32Array {
    const a = this.array(name);
    if (!(a instanceof Float32Array)) throw new Error(`snapshot array ${name} is not f32`);
    return a;
  }
  f64(name: string): Float64Array {
    const a = this.array(name);
    if (!(a instanceof Float64Array)) throw new Error(`snapshot array ${name} is not f64`);
    return a;
  }
  i32(name: string): Int32Array {
    const a = this.array(name);
    if (!(a instanceof Int32Array)) throw new Error(`snapshot array ${name} is not i32`);
    return a;
  }
  u8(name: string): Uint8Array {
    const a = this.array(name);
    if (!(a instanceof Uint8Array)) throw new Error(`snapshot array ${name} is not u8`);
    return a;
  }
  num(name: string): number {
    // trusted-key: names are code constants
    const v = this.data.meta[this.prefix + name];
    if (typeof v !== 'number' && v !== null)
      throw new Error(`model snapshot lacks number ${this.prefix + name}`);
    // JSON turns NaN into null
    return v === null ? Number.NaN : v;
  }
  strings(name: string): string[] {
    // trusted-key: names are code constants
    const v = this.data.meta[this.prefix + name];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
      throw new Error(`model snapshot lacks string list ${this.prefix + name}`);
    }
    return v as string[];
  }
  value(name: string): unknown {
    // trusted-key: names are code constants
    return this.data.meta[this.prefix + name];
  }
}

export class SnapshotWriter {
  constructor(
    readonly data: SnapshotData = { meta: {}, arrays: {} },
    private readonly prefix = '',
  ) {}

  scope(prefix: string): SnapshotWriter {
    return new SnapshotWriter(this.data, this.prefix + prefix);
  }

  /** Stores a copy of the first `length` elements (capacity beyond that is not state). */
  array(name: string, a: NumericArray, length = a.length): void {
    // trusted-key: names are code constants
    this.data.arrays[this.prefix + name] = a.slice(0, length);
  }
  /** Stores `a` itself: for arrays built for the snapshot, which nobody changes afterwards. */
  adopt(name: string, a: NumericArray): void {
    // trusted-key: names are code constants
    this.data.arrays[this.prefix + name] = a;
  }
  set(name: string, v: unknown): void {
    // trusted-key: names are code constants
    this.data.meta[this.prefix + name] = v;
  }

  encode(): Uint8Array {
    return encodeSnapshot(this.data);
  }
}

/** A component model that keeps its own state under `{name}.` next to the shared id maps. */
export interface SnapshotComponent {
  readonly name: string;
  readonly ctx: { save(w: SnapshotWriter): void; load(r: SnapshotReader): void };
  save(w: SnapshotWriter): void;
  load(r: SnapshotReader): void;
}

/** The whole-model snapshot every standalone component writes: its name, the id maps, its state. */
export function snapshotComponent(model: SnapshotComponent): Uint8Array {
  const w = new SnapshotWriter();
  w.set('model', model.name);
  model.ctx.save(w);
  model.save(w.scope(`${model.name}.`));
  return w.encode();
}

export function restoreComponent(model: SnapshotComponent, bytes: Uint8Array): void {
  const r = new SnapshotReader(decodeSnapshot(bytes));
  checkModel(r, model.name);
  model.ctx.load(r);
  model.load(r.scope(`${model.name}.`));
}
