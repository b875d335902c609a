import { readInputRecords } from '../formats/input-records.js';
import type { InputFormat, ReadPosition } from '../formats/read-lines.js';
import type { Batch, RawMessage } from '../../operators/types.js';

export interface FileReadStats {
  records: number;
  filtered: number;
  /** Catalog records the format derived from its rows (not lines of their own). */
  catalog?: number;
}

/**
 * A file as a stream of batches, shaped exactly like Kafka batches (topic = file, partition 0,
 * offset = line number) so the graph cannot tell the two runtimes apart.
 */
export async function* fileBatches(
  file: string,
  format: InputFormat,
  opts: {
    batchSize: number;
    limit?: number;
    position?: ReadPosition;
    stats: FileReadStats;
    /** Topic name for catalog records a format derives (without it they are skipped). */
    catalogTopic?: string;
  },
): AsyncGenerator<Batch<RawMessage>> {
  const { batchSize, limit, stats } = opts;
  let items: RawMessage[] = [];
  let seq = 0;
  let lastLine = 0;
  for await (const rec of readInputRecords(file, format, opts.position)) {
    if (limit !== undefined && stats.records >= limit) break;
    if (rec.kind === 'catalog') {
      if (opts.catalogTopic === undefined) continue;
      stats.catalog = (stats.catalog ?? 0) + 1;
      items.push({ topic: opts.catalogTopic, partition: 0, offset: rec.line, value: rec.value });
      continue;
    }
    stats.records++;
    lastLine = rec.line;
    if (rec.kind === 'filtered') {
      stats.filtered++;
      continue;
    }
    items.push({
      topic: file,
      partition: 0,
      offset: rec.line,
      value: rec.value,
      ...(rec.key !== undefined && { key: rec.key }),
    });
    if (items.length >= batchSize) {
      yield { seq: seq++, items, commits: [{ topic: file, partition: 0, offset: lastLine + 1 }] };
      items = [];
    }
  }
  if (items.length > 0)
    yield { seq: seq++, items, commits: [{ topic: file, partition: 0, offset: lastLine + 1 }] };
}
