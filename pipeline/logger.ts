import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stderr (stdout is reserved for command output); secrets are redacted. */
export function createLogger(level: string, name = 'recpipe'): Logger {
  return pino(
    {
      name,
      level,
      redact: {
        paths: ['password', '*.password', '*.*.password', 'sasl', '*.sasl', 'url', '*.url'],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  );
}
