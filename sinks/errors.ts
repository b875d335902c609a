import { ClickHouseError } from '@clickhouse/client';

/**
 * Is a failed write caused by the rows it carried (the same rows fail the same way every time,
 * so retrying blocks the partition forever) or by the store (down, overloaded, misconfigured:
 * retry until it is back, as the runtime always did)? When in doubt: the store, because retrying
 * loses nothing while dead-lettering a good row would.
 */
export type SinkErrorKind = 'row' | 'outage';

/**
 * ClickHouse exceptions a row's content causes (a value that does not parse or fit, a violated
 * constraint, a size limit), by type name (servers since 20.x name it in the message) and by
 * number (older servers, like the local stack's 18.16, give only "Code: N").
 */
const CLICKHOUSE_ROW_ERRORS: ReadonlyMap<string, number> = new Map([
  ['CANNOT_PARSE_TEXT', 6],
  ['CANNOT_PARSE_ESCAPE_SEQUENCE', 25],
  ['CANNOT_PARSE_QUOTED_STRING', 26],
  ['CANNOT_PARSE_INPUT_ASSERTION_FAILED', 27],
  ['ATTEMPT_TO_READ_AFTER_EOF', 32],
  ['CANNOT_PARSE_DATE', 38],
  ['CANNOT_PARSE_DATETIME', 41],
  ['TYPE_MISMATCH', 53],
  ['ARGUMENT_OUT_OF_BOUND', 69],
  ['CANNOT_CONVERT_TYPE', 70],
  ['CANNOT_PARSE_NUMBER', 72],
  ['INCORRECT_DATA', 117],
  ['TOO_LARGE_ARRAY_SIZE', 128],
  ['CANNOT_READ_ARRAY_FROM_TEXT', 130],
  ['TOO_LARGE_STRING_SIZE', 131],
  ['SIZES_OF_ARRAYS_DOESNT_MATCH', 190],
  ['TOO_DEEP_RECURSION', 306],
  ['VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE', 321],
  ['CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN', 349],
  ['CANNOT_PARSE_UUID', 376],
  ['DECIMAL_OVERFLOW', 407],
  ['VIOLATED_CONSTRAINT', 469],
  ['UNKNOWN_ELEMENT_OF_ENUM', 691],
]);
const CLICKHOUSE_ROW_CODES: ReadonlySet<number> = new Set(CLICKHOUSE_ROW_ERRORS.values());
const CLICKHOUSE_CODE = /^Code: (\d+)[.,] .*DB::Exception/s;

/**
 * Redis replies that depend on what was written, not on the server's state: a key of another
 * type (WRONGTYPE), a value Redis cannot take (not a float, too large), a command rejected while
 * queued in MULTI (EXECABORT). OOM, LOADING, READONLY, BUSY, auth and connection errors are not.
 */
const REDIS_ROW_ERROR =
  /^(WRONGTYPE|EXECABORT)|^ERR (value is not a valid float|value is not an integer|string exceeds maximum allowed size|.*\bout of range\b|min or max is not a float|invalid expire time)/i;

export function classifySinkError(err: unknown): SinkErrorKind {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; depth++) {
    if (e instanceof ClickHouseError) {
      const byType = e.type !== undefined && CLICKHOUSE_ROW_ERRORS.has(e.type);
      return byType || CLICKHOUSE_ROW_CODES.has(Number(e.code)) ? 'row' : 'outage';
    }
    const code = CLICKHOUSE_CODE.exec(e.message);
    if (code) return CLICKHOUSE_ROW_CODES.has(Number(code[1])) ? 'row' : 'outage';
    // Redis: ioredis ReplyError (the server's reply text)
    if (e.name === 'ReplyError') return REDIS_ROW_ERROR.test(e.message) ? 'row' : 'outage';
    // Serialising a row on the client (JSON of a value nested too deep, an invalid Date): the
    // same row throws the same way on every attempt.
    if (e instanceof RangeError || e instanceof TypeError)
      return isNetworkError(e) ? 'outage' : 'row';
    e = e.cause;
  }
  return 'outage';
}

/** Node's fetch/socket failures are TypeErrors too ("fetch failed", ECONNREFUSED underneath). */
function isNetworkError(e: Error): boolean {
  const code = (e as { code?: unknown }).code;
  return (
    /fetch failed|socket|network|ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH/i.test(e.message) ||
    (typeof code === 'string' && /^E[A-Z]+$/.test(code))
  );
}
