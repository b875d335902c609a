import { ownValue } from '../models/core/own.js';

/**
 * The first steps every input message goes through, before anything recursive touches it
 * (CONTRACT §5): size, UTF-8, BOM and nesting depth. Each returns a reason instead of throwing,
 * so no single message can take the job down.
 */

/** CONTRACT §1: a whole message may be at most 16 KiB. */
export const MAX_MESSAGE_BYTES = 16 * 1024;
/** CONTRACT §5: arrays/objects nested deeper than this anywhere in a message are a dead letter. */
export const MAX_DEPTH = 32;

export type Decoded = { ok: true; text: string } | { ok: false; reason: string };

// fatal: invalid bytes are an error, never silently replaced (U+FFFD would make two different ids
// one); ignoreBOM false: the decoder strips a leading BOM itself.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes → text. A Buffer is decoded strictly; a string (a line a file reader already decoded) is
 * taken as it is. A leading BOM is dropped either way.
 */
export function decodeMessage(raw: string | Buffer): Decoded {
  const bytes = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (bytes > MAX_MESSAGE_BYTES)
    return { ok: false, reason: `oversized: ${bytes} bytes > ${MAX_MESSAGE_BYTES}` };
  if (typeof raw === 'string')
    return { ok: true, text: raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw };
  try {
    return { ok: true, text: UTF8.decode(raw) };
  } catch {
    return { ok: false, reason: `invalid_utf8: byte ${firstInvalidByte(raw)} is not valid UTF-8` };
  }
}

/** Position of the first byte that breaks UTF-8 (for the dead letter's detail). */
function firstInvalidByte(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    const n =
      c < 0x80
        ? 1
        : c >= 0xc2 && c < 0xe0
          ? 2
          : c >= 0xe0 && c < 0xf0
            ? 3
            : c >= 0xf0 && c < 0xf5
              ? 4
              : 0;
    if (n === 0 || i + n > b.length) return i;
    try {
      UTF8.decode(b.subarray(i, i + n));
    } catch {
      return i;
    }
    i += n;
  }
  return i;
}

/**
 * The deepest array/object nesting of JSON text, counted without parsing and stopping as soon
 * as `max` is passed: a linear scan that cannot overflow the stack whatever the input.
 */
export function nestingExceeds(text: string, max = MAX_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

export type ParsedObject =
  { ok: true; value: Readonly<Record<string, unknown>> } | { ok: false; reason: string };

/** Size, UTF-8, BOM, depth, JSON syntax and "one object": the shared front of every validator. */
export function parseObjectMessage(raw: string | Buffer): ParsedObject {
  const d = decodeMessage(raw);
  if (!d.ok) return d;
  if (nestingExceeds(d.text))
    return { ok: false, reason: `too_deep: nested deeper than ${MAX_DEPTH} levels` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(d.text);
  } catch (err) {
    return { ok: false, reason: `malformed_json: ${(err as Error).message.slice(0, 200)}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { ok: false, reason: 'not_an_object: the message must be one JSON object' };
  return { ok: true, value: parsed as Readonly<Record<string, unknown>> };
}

/** Reads a field of a parsed message: own properties only, so `__proto__` or `constructor` never answer. */
export const field = (o: Readonly<Record<string, unknown>>, name: string): unknown =>
  ownValue(o, name);

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Half of a surrogate pair without the other half: valid in JSON escapes, not encodable as UTF-8. */
export const LONE_SURROGATE =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why an id cannot be used as one, or undefined when it can. */
export function idProblem(v: string): string | undefined {
  if (CONTROL.test(v)) return 'contains a control character';
  if (LONE_SURROGATE.test(v)) return 'contains a lone surrogate (not encodable as UTF-8)';
  return undefined;
}
