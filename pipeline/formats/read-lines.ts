import { isUtf8 } from 'node:buffer';
import { createReadStream, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export type InputFormat = 'jsonl' | 'online-retail';

export const INPUT_FORMATS: readonly InputFormat[] = ['jsonl', 'online-retail'];

/** CONTRACT §2: `.csv` / `.csv.gz` default to online-retail, everything else to jsonl. */
export function formatFromFileName(file: string): InputFormat {
  return /\.csv(\.gz)?$/i.test(file) ? 'online-retail' : 'jsonl';
}

/** How far through the (compressed) file we are, for progress bars. */
export interface ReadPosition {
  bytesRead: number;
  readonly totalBytes: number;
}

export function openInput(file: string, position?: ReadPosition): Readable {
  const raw = createReadStream(file, { highWaterMark: 256 * 1024 });
  if (position) raw.on('data', (chunk) => (position.bytesRead += chunk.length));
  return file.toLowerCase().endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
}

export function newReadPosition(file: string): ReadPosition {
  return { bytesRead: 0, totalBytes: statSync(file).size };
}

/**
 * Lines of a (possibly gzipped) file, split on `\n` (a trailing `\r` dropped), empty lines
 * included. A line that is valid UTF-8 comes as text; one that is not comes as its raw bytes,
 * so replay sees exactly what `produce` puts in Kafka and validation can call it `invalid_utf8`
 * instead of a decoder silently turning different bytes into the same U+FFFD.
 */
export async function* readLines(
  file: string,
  position?: ReadPosition,
): AsyncGenerator<string | Buffer> {
  let rest: Buffer | undefined;
  for await (const chunk of openInput(file, position) as AsyncIterable<Buffer>) {
    const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
      yield asLine(buf.subarray(start, nl));
      start = nl + 1;
    }
    rest = start < buf.length ? buf.subarray(start) : undefined;
  }
  if (rest && rest.length > 0) yield asLine(rest);
}

function asLine(b: Buffer): string | Buffer {
  const bytes = b.length > 0 && b[b.length - 1] === 13 ? b.subarray(0, b.length - 1) : b;
  const text = bytes.toString('utf8');
  // U+FFFD is rare in real text: only then is the stricter check worth it
  if (!text.includes('\uFFFD') || isUtf8(bytes)) return text;
  return Buffer.from(bytes);
}

/** Text of a line for formats that need text (a CSV row): invalid bytes become U+FFFD. */
export const lineText = (line: string | Buffer): string =>
  typeof line === 'string' ? line : line.toString('utf8');
