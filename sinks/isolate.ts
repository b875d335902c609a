import { createHash } from 'node:crypto';
import type { DeadLetter, SourcedEvent } from '../records/index.js';
import { classifySinkError, type SinkErrorKind } from './errors.js';

/** A row a store refused because of its content, with where it was in the write. */
export interface RejectedRow<T> {
  readonly row: T;
  readonly index: number;
  readonly error: string;
}

/**
 * Writes `rows`; when the store refuses them because of a row (classifySinkError), halves the
 * rows until each refused one is alone, writes all the others, and returns the refused ones.
 * One bad row in 500 costs about 2·log2(500) ≈ 18 extra writes instead of blocking its partition
 * forever. An outage is thrown unchanged, for the runtime to retry the whole write (every store
 * write is idempotent, so rows a half already wrote are written again harmlessly).
 */
export async function writeIsolating<T>(
  rows: readonly T[],
  write: (rows: readonly T[]) => Promise<unknown>,
  classify: (err: unknown) => SinkErrorKind = classifySinkError,
): Promise<RejectedRow<T>[]> {
  const rejected: RejectedRow<T>[] = [];
  const attempt = async (from: number, to: number): Promise<void> => {
    try {
      await write(from === 0 && to === rows.length ? rows : rows.slice(from, to));
    } catch (err) {
      if (classify(err) !== 'row') throw err;
      if (to - from === 1) {
        rejected.push({ row: rows[from] as T, index: from, error: errorText(err) });
        return;
      }
      const mid = (from + to) >>> 1;
      await attempt(from, mid);
      await attempt(mid, to);
    }
  };
  if (rows.length > 0) await attempt(0, rows.length);
  return rejected;
}

/**
 * The read counterpart of writeIsolating: reads `keys` in one go, and when the store refuses
 * because of a key's content (a key of another type), halves until the refused keys are alone.
 * The others' values come back; the refused keys are listed for the caller to log.
 */
export async function readIsolating<K, V>(
  keys: readonly K[],
  read: (keys: readonly K[]) => Promise<Map<K, V>>,
  classify: (err: unknown) => SinkErrorKind = classifySinkError,
): Promise<{ values: Map<K, V>; refused: RejectedRow<K>[] }> {
  const values = new Map<K, V>();
  const refused: RejectedRow<K>[] = [];
  const part = (from: number, to: number): readonly K[] =>
    from === 0 && to === keys.length ? keys : keys.slice(from, to);
  await writeIsolating(
    keys.map((_, i) => i),
    async (idx) => {
      const got = await read(part(idx[0] as number, (idx[idx.length - 1] as number) + 1));
      for (const [k, v] of got) values.set(k, v);
    },
    classify,
  ).then((rows) => {
    for (const r of rows) refused.push({ row: keys[r.row] as K, index: r.row, error: r.error });
  });
  return { values, refused };
}

const errorText = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 500);

/**
 * A refused event becomes a dead letter at its source position, so the batch can commit and
 * the event is kept (DLQ topic, ClickHouse `dead_letters`) like any other bad message.
 */
export function rejectedEventLetter(
  r: RejectedRow<SourcedEvent>,
  store: string,
  receivedAt: number,
): DeadLetter {
  const { event, topic, partition, offset } = r.row;
  return {
    topic,
    partition,
    offset,
    payload: JSON.stringify({ ...event, props: undefined }),
    reason: `sink_rejected: ${store} refused the row: ${r.error}`,
    receivedAt,
  };
}

/**
 * A refused row the job derived (a served list, a feature, a push decision) has no source
 * message: it is kept under a pseudo topic `recpipe:{store}`, and its offset is a hash of its
 * content, so a replay of the same batch records it once (dead_letters deduplicates by position).
 */
export function rejectedDerivedLetter<T>(
  r: RejectedRow<T>,
  store: string,
  receivedAt: number,
): DeadLetter {
  const payload = safeJson(r.row);
  const digest = createHash('sha256').update(payload).digest();
  return {
    topic: `recpipe:${store}`,
    partition: 0,
    offset: digest.readUIntBE(0, 6),
    payload,
    reason: `sink_rejected: ${store} refused the row: ${r.error}`,
    receivedAt,
  };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (x instanceof Map ? [...x] : x)) ?? '';
  } catch (err) {
    return `(not serialisable: ${String(err).slice(0, 100)})`;
  }
}
