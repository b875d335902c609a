import pino, { type DestinationStream, type Logger } from 'pino';
import { redactUrlCredentials } from '../sinks/security.js';

export type { Logger };

export interface LoggerOptions {
  /** Secret values (passwords, keys) masked wherever they appear in a line, e.g. configSecrets(cfg). */
  secrets?: readonly string[];
  /** Where lines go; stderr by default (stdout is reserved for command output). */
  destination?: DestinationStream;
}

/**
 * Field names whose values never reach a log line, at any depth the code logs them. Leaves only:
 * pino's redaction censors in place and restores after serializing, and with nested paths (a
 * whole `sasl` object and the `password` inside it) the restore left the LIVE config's password
 * as "[redacted]"; passwords are strings, so leaf names cannot nest.
 */
const SECRET_KEYS = ['password', 'keyPassword', 'userIdHashKey', 'auditKey', 'authorization'];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]);

/**
 * Structured JSON logs on stderr; secrets are redacted three ways: by field name (pino's redact),
 * credentials inside any URL, and the configured secret values wherever they occur (an error
 * message from a client library can quote a connection string the code never saw).
 */
export function createLogger(level: string, name = 'recpipe', opts: LoggerOptions = {}): Logger {
  return pino(
    { name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    scrubbing(opts.destination ?? pino.destination(2), opts.secrets ?? []),
  );
}

/** A destination that masks secrets in each serialized line before it is written. */
export function scrubbing(dest: DestinationStream, secrets: readonly string[]): DestinationStream {
  // Match the secrets as they appear inside JSON strings (quotes and backslashes escaped).
  const escaped = secrets
    .filter((s) => s.length > 0)
    .map((s) => JSON.stringify(s).slice(1, -1))
    .sort((a, b) => b.length - a.length)
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const literal = escaped.length > 0 ? new RegExp(escaped.join('|'), 'g') : undefined;
  return {
    write(line: string) {
      let out = redactUrlCredentials(line);
      if (literal) out = out.replace(literal, '[redacted]');
      return dest.write(out);
    },
  };
}
