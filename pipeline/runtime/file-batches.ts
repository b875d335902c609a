import { readInputRecords, userIdOf } from '../formats/input-records.js';
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
  for await (const rec of readInputRecords(file, format, opts.position, true)) {
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
    items.push(
      rec.keyInValue
        ? keyedLater(file, rec.line, rec.value)
        : {
            topic: file,
            partition: 0,
            offset: rec.line,
            value: rec.value,
            ...(rec.key !== undefined && { key: rec.key }),
          },
    );
    if (items.length >= batchSize) {
      yield { seq: seq++, items, commits: [{ topic: file, partition: 0, offset: lastLine + 1 }] };
      items = [];
    }
  }
  if (items.length > 0)
    yield { seq: seq++, items, commits: [{ topic: file, partition: 0, offset: lastLine + 1 }] };
}

/**
 * A line's message whose key (the user_id, as `produce` would set it) is parsed only when read:
 * the graph reads it for dead letters only, so a valid line is parsed once, not twice (the
 * second JSON.parse was 2% of replay's CPU on the shop stream).
 */
function keyedLater(topic: string, offset: number, value: string | Buffer): RawMessage {
  let key: string | undefined | null = null;
  return {
    topic,
    partition: 0,
    offset,
    value,
    get key(): string | undefined {
      if (key === null) key = userIdOf(value);
      return key;
    },
  };
}
