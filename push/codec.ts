/** Little-endian binary writer/reader for per-user push state (snapshots, changelogs). */
export class ByteWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private n = 0;
  private static readonly enc = new TextEncoder();

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Empties the writer, keeping its buffer: a scratch writer grows once to its largest use. */
  reset(): this {
    this.n = 0;
    return this;
  }

  /** The char codes of a one-byte-per-char string, without a length (bytes kept as text). */
  latin1(s: string): this {
    this.room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.n + i] = s.charCodeAt(i);
    this.n += s.length;
    return this;
  }

  u8(v: number): this {
    this.room(1);
    this.view.setUint8(this.n, v);
    this.n += 1;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.view.setUint32(this.n, v >>> 0, true);
    this.n += 4;
    return this;
  }

  f64(v: number): this {
    this.room(8);
    this.view.setFloat64(this.n, v, true);
    this.n += 8;
    return this;
  }

  str(s: string): this {
    // Ids and keys are almost always ASCII: copying char codes avoids TextEncoder's Uint8Array
    // per string, which was 8 % of the job's CPU in a soak (a changelog record per touched user).
    const len = s.length;
    this.room(4 + len);
    const at = this.n + 4;
    const buf = this.buf;
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at + i] = c;
    }
    if (i === len) {
      this.view.setUint32(this.n, len, true);
      this.n = at + len;
      return this;
    }
    const b = ByteWriter.enc.encode(s);
    this.u32(b.length);
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
    return this;
  }

  /** Optional string: a flag byte, then the string. */
  optStr(s: string | undefined): this {
    this.u8(s === undefined ? 0 : 1);
    return s === undefined ? this : this.str(s);
  }

  bytes(a: Uint8Array): this {
    this.u32(a.length);
    this.room(a.length);
    this.buf.set(a, this.n);
    this.n += a.length;
    return this;
  }

  f32s(a: Float32Array): this {
    this.u32(a.length);
    for (const v of a) {
      this.room(4);
      this.view.setFloat32(this.n, v, true);
      this.n += 4;
    }
    return this;
  }

  f64s(a: ArrayLike<number>): this {
    this.u32(a.length);
    for (let i = 0; i < a.length; i++) this.f64(a[i] as number);
    return this;
  }

  strs(a: readonly string[]): this {
    this.u32(a.length);
    for (const s of a) this.str(s);
    return this;
  }

  /** Bytes written since the last reset (where the next record of a batch starts). */
  get length(): number {
    return this.n;
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}

export class ByteReader {
  private readonly view: DataView;
  private n = 0;
  private static readonly dec = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(k: number): void {
    if (this.n + k > this.buf.length) throw new RangeError('push state: truncated bytes');
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.n++);
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.n, true);
    this.n += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.n, true);
    this.n += 8;
    return v;
  }

  str(): string {
    const len = this.u32();
    this.need(len);
    const s = ByteReader.dec.decode(this.buf.subarray(this.n, this.n + len));
    this.n += len;
    return s;
  }

  optStr(): string | undefined {
    return this.u8() === 0 ? undefined : this.str();
  }

  bytes(): Uint8Array {
    const len = this.u32();
    this.need(len);
    const b = this.buf.slice(this.n, this.n + len);
    this.n += len;
    return b;
  }

  f32s(): Float32Array {
    const len = this.u32();
    this.need(4 * len);
    const a = new Float32Array(len);
    for (let i = 0; i < len; i++) a[i] = this.view.getFloat32(this.n + 4 * i, true);
    this.n += 4 * len;
    return a;
  }

  f64s(): number[] {
    const len = this.u32();
    this.need(8 * len);
    const a: number[] = [];
    for (let i = 0; i < len; i++) a.push(this.f64());
    return a;
  }

  strs(): string[] {
    const len = this.u32();
    const a: string[] = [];
    for (let i = 0; i < len; i++) a.push(this.str());
    return a;
  }

  get atEnd(): boolean {
    return this.n === this.buf.length;
  }
}
