import { mapOnlineRetailLine } from './online-retail.js';
import { lineText, readLines, type InputFormat, type ReadPosition } from './read-lines.js';

/**
 * What one input line becomes: a message to process (or produce), a catalog fact the format
 * derived from the line (for topic `items`), or a row the format filters out.
 */
export type InputRecord =
  | {
      kind: 'message';
      line: number;
      key?: string;
      value: string | Buffer;
      /** With `lazyKeys`: the key was not worked out; it is userIdOf(value). */
      keyInValue?: true;
    }
  | { kind: 'catalog'; line: number; key: string; value: string }
  | { kind: 'filtered'; line: number };

/**
 * Both `replay` and `produce` read files through here, so Kafka carries exactly what replay sees.
 * The key is the parsed event's user_id (CONTRACT §1), else none (malformed lines stay keyless).
 * For online-retail, the first row of each stock code with a description is preceded by that
 * product's catalog record.
 */
export async function* readInputRecords(
  file: string,
  format: InputFormat,
  position?: ReadPosition,
  /** JSONL lines come without their key (keyInValue): the caller parses it only if needed. */
  lazyKeys = false,
): AsyncGenerator<InputRecord> {
  let line = 0;
  const described = new Set<string>();
  for await (const raw of readLines(file, position)) {
    line++;
    if (format === 'online-retail') {
      const row = mapOnlineRetailLine(lineText(raw));
      if (row.kind === 'header') continue;
      if (row.kind === 'filtered') {
        yield { kind: 'filtered', line };
        continue;
      }
      if (row.item && !described.has(row.item.itemId)) {
        described.add(row.item.itemId);
        yield { kind: 'catalog', line, key: row.item.itemId, value: row.item.json };
      }
      yield { kind: 'message', line, key: row.key, value: row.json };
    } else if (lazyKeys) {
      yield { kind: 'message', line, value: raw, keyInValue: true };
    } else {
      const key = userIdOf(raw);
      yield key === undefined
        ? { kind: 'message', line, value: raw }
        : { kind: 'message', line, key, value: raw };
    }
  }
}

/**
 * The Kafka key of a line: the user_id the job will read from it, i.e. JSON.parse's (the last
 * of duplicate keys, never one inside `props`), after the same BOM rule as validation. Lines
 * that are not a JSON object with a string user_id get no key. Never throws.
 */
export function userIdOf(raw: string | Buffer): string | undefined {
  if (typeof raw !== 'string') return undefined; // not UTF-8: a dead letter, keyless
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  if (text.length > 64 * 1024) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, 'user_id'))
      return undefined;
    const id = (v as { user_id?: unknown }).user_id;
    return typeof id === 'string' && id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}
