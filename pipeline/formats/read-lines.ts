import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export type InputFormat = 'jsonl' | 'online-retail';

/** CONTRACT §2: `.csv` / `.csv.gz` default to online-retail, everything else to jsonl. */
export function formatFromFileName(file: string): InputFormat {
  return /\.csv(\.gz)?$/i.test(file) ? 'online-retail' : 'jsonl';
}

export function openInput(file: string): Readable {
  const raw = createReadStream(file);
  return file.toLowerCase().endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
}

/** Lines of a (possibly gzipped) file, without line endings; empty lines included. */
export async function* readLines(file: string): AsyncGenerator<string> {
  const rl = createInterface({ input: openInput(file), crlfDelay: Infinity });
  for await (const line of rl) yield line;
}
