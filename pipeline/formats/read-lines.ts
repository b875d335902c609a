import { createReadStream, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
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

/** Lines of a (possibly gzipped) file, without line endings; empty lines included. */
export async function* readLines(file: string, position?: ReadPosition): AsyncGenerator<string> {
  const rl = createInterface({ input: openInput(file, position), crlfDelay: Infinity });
  for await (const line of rl) yield line;
}
