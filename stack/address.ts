import type { Config } from '../config/schema.js';
import { redactUrlCredentials } from '../sinks/security.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** What `stack status --json` prints and what every other command connects to by default. */
export interface StackEndpoints {
  kafka: string;
  redis: string;
  clickhouse: string;
}

export class StackConfigError extends Error {
  override readonly name = 'StackConfigError';
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|localhost|::1)$/i;

/** Accepts "host:port" and "[v6]:port"; the first broker wins because the local stack is one node. */
export function parseHostPort(text: string, what: string): HostPort {
  const first = text.split(',')[0]?.trim() ?? '';
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(first) ?? /^([^:]+):(\d+)$/.exec(first);
  if (!m) throw new StackConfigError(`${what}: expected HOST:PORT, got "${text}"`);
  return { host: m[1]!, port: checkPort(Number(m[2]), what) };
}

function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new StackConfigError(`${what}: bad port ${port}`);
  return port;
}

function parseUrl(text: string, what: string, defaultPort: number): { url: URL; hp: HostPort } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new StackConfigError(`${what}: not a URL: "${redactUrlCredentials(text)}"`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { url, hp: { host, port: checkPort(url.port ? Number(url.port) : defaultPort, what) } };
}

/** The stack can only start processes here, so a remote address is a configuration mistake, not something to try. */
function requireLoopback(hp: HostPort, what: string): HostPort {
  if (!LOOPBACK.test(hp.host)) {
    throw new StackConfigError(
      `${what} points at ${hp.host}; \`recpipe stack\` only manages services on this machine (use 127.0.0.1)`,
    );
  }
  return hp;
}

export interface StackAddresses {
  kafka: HostPort;
  kafkaController: HostPort;
  redis: HostPort & { password: string | undefined };
  clickhouseHttp: HostPort;
  clickhouseNative: HostPort;
}

export function stackAddresses(cfg: Config): StackAddresses {
  const kafka = requireLoopback(parseHostPort(cfg.kafka.brokers, 'kafka.brokers'), 'kafka.brokers');
  const redis = parseUrl(cfg.redis.url, 'redis.url', 6379);
  const ch = parseUrl(cfg.clickhouse.url, 'clickhouse.url', 8123);
  requireLoopback(redis.hp, 'redis.url');
  requireLoopback(ch.hp, 'clickhouse.url');
  const ports = new Map<number, string>();
  const claim = (port: number, what: string): void => {
    const other = ports.get(port);
    if (other) throw new StackConfigError(`${what} and ${other} both use port ${port}`);
    ports.set(port, what);
  };
  claim(kafka.port, 'kafka.brokers');
  claim(checkPort(cfg.kafka.controllerPort, 'kafka.controllerPort'), 'kafka.controllerPort');
  claim(redis.hp.port, 'redis.url');
  claim(ch.hp.port, 'clickhouse.url');
  claim(checkPort(cfg.clickhouse.nativePort, 'clickhouse.nativePort'), 'clickhouse.nativePort');
  return {
    kafka,
    kafkaController: { host: kafka.host, port: cfg.kafka.controllerPort },
    redis: {
      ...redis.hp,
      password: redis.url.password ? decodeURIComponent(redis.url.password) : undefined,
    },
    clickhouseHttp: ch.hp,
    clickhouseNative: { host: ch.hp.host, port: cfg.clickhouse.nativePort },
  };
}

export function stackEndpoints(cfg: Config): StackEndpoints {
  const a = stackAddresses(cfg);
  return {
    kafka: formatHostPort(a.kafka),
    redis: cfg.redis.url,
    clickhouse: clickhouseEndpoint(cfg),
  };
}

export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/**
 * CONTRACT: credentials travel inside the URL when the service needs them. The configured URL is kept
 * verbatim otherwise, so the default prints exactly "http://127.0.0.1:18123" (no trailing slash).
 */
function clickhouseEndpoint(cfg: Config): string {
  const { username, password, url } = cfg.clickhouse;
  const needsAuth = password !== '' || (username !== '' && username !== 'default');
  const parsed = new URL(url);
  if (!needsAuth || parsed.username) return url;
  parsed.username = encodeURIComponent(username || 'default');
  parsed.password = encodeURIComponent(password);
  const text = parsed.toString();
  return url.endsWith('/') ? text : text.replace(/\/$/, '');
}
