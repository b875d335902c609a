import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';

/**
 * `scheme://user:password@` anywhere in a text. Passwords with `@`, `/` or spaces are
 * percent-encoded in a valid URL, so stopping at those characters finds the whole secret.
 */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/"'\\]*):([^\s@/"'\\]+)@/gi;

/** The text with every password inside a URL replaced by `***` (the user name is kept). */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1$2:***@');
}

/** A URL for messages: the password (if any) masked, or a placeholder when it does not parse. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return redactUrlCredentials(url);
  }
}

/**
 * Every secret value the config holds, for scrubbing logs by value: a password can reach a log
 * line outside any field named "password" (an error message that quotes a connection string).
 */
export function configSecrets(cfg: Config): string[] {
  const out = [
    cfg.kafka.sasl.password,
    cfg.kafka.tls.keyPassword,
    cfg.redis.password,
    cfg.clickhouse.password,
    cfg.privacy.userIdHashKey,
  ];
  for (const url of [cfg.redis.url, cfg.clickhouse.url]) {
    try {
      const p = new URL(url).password;
      if (p) out.push(p, decodeURIComponent(p));
    } catch {
      // An unparseable URL is rejected where it is used; nothing to add here.
    }
  }
  return [...new Set(out.filter((s) => s.length > 0))];
}

/** Reads a PEM file named in the config, naming the setting when it cannot. */
export function readPem(file: string, setting: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${setting} (${file}): ${(err as Error).message}`, { cause: err });
  }
}
