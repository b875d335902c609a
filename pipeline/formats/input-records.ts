import { mapOnlineRetailLine } from './online-retail.js';
import { readLines, type InputFormat, type ReadPosition } from './read-lines.js';

/** What one input line becomes: a message to process (or produce), or a row the format filters out. */
export type InputRecord =
  | { kind: 'message'; line: number; key?: string; value: string }
  | { kind: 'filtered'; line: number };

/**
 * Both `replay` and `produce` read files through here, so Kafka carries exactly what replay sees.
 * The key is the user_id where one can be read cheaply, else none (malformed lines stay keyless).
 */
export async function* readInputRecords(
  file: string,
  format: InputFormat,
  position?: ReadPosition,
): AsyncGenerator<InputRecord> {
  let line = 0;
  for await (const text of readLines(file, position)) {
    line++;
    if (format === 'online-retail') {
      const row = mapOnlineRetailLine(text);
      if (row.kind === 'header') continue;
      if (row.kind === 'filtered') yield { kind: 'filtered', line };
      else yield { kind: 'message', line, key: row.key, value: row.json };
    } else {
      const key = keyOf(text);
      yield key === undefined
        ? { kind: 'message', line, value: text }
        : { kind: 'message', line, key, value: text };
    }
  }
}

const USER_ID = /"user_id"\s*:\s*"((?:[^"\\]|\\.){1,128})"/;

function keyOf(text: string): string | undefined {
  const m = USER_ID.exec(text);
  return m?.[1];
}
