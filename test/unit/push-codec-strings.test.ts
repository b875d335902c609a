import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../push/codec.js';

describe('push codec strings', () => {
  it('writes every string as its UTF-8 bytes behind a length, ASCII or not, and reads it back', () => {
    const enc = new TextEncoder();
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.fullUnicodeString(), fc.asciiString({ maxLength: 300 }))),
        fc.integer({ min: 0, max: 255 }),
        (strings, tag) => {
          const w = new ByteWriter().u8(tag);
          for (const s of strings) w.str(s);
          const bytes = w.done();
          // the same bytes as TextEncoder with a little-endian u32 length before each string
          const want: number[] = [tag];
          for (const s of strings) {
            const b = enc.encode(s);
            want.push(
              b.length & 255,
              (b.length >> 8) & 255,
              (b.length >> 16) & 255,
              b.length >>> 24,
            );
            want.push(...b);
          }
          expect(Array.from(bytes)).toEqual(want);
          const r = new ByteReader(bytes);
          expect(r.u8()).toBe(tag);
          // lone surrogates come back as U+FFFD, as from TextDecoder
          for (const s of strings) expect(r.str()).toBe(new TextDecoder().decode(enc.encode(s)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
