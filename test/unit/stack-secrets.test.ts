import { mkdtempSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { stackCommand } from '../../pipeline/cli/stack-command.js';
import { cachedHealth } from '../../pipeline/http-server.js';
import { clickhouseService } from '../../stack/clickhouse.js';
import { redisService } from '../../stack/redis.js';

/** Issue 12 item 9: the local stack's secrets. */
const REDIS_PW = 'r3d!s secret';
const CH_PW = 'ch-S3cret';
const configIn = (stateDir: string) =>
  loadConfig(undefined, {
    RECPIPE_STATE_DIR: stateDir,
    RECPIPE_REDIS_URL: `redis://:${encodeURIComponent(REDIS_PW)}@127.0.0.1:1`,
    RECPIPE_CLICKHOUSE_URL: 'http://127.0.0.1:2',
    RECPIPE_CLICKHOUSE_NATIVE_PORT: '3',
    RECPIPE_CLICKHOUSE_USERNAME: 'recpipe',
    RECPIPE_CLICKHOUSE_PASSWORD: CH_PW,
    RECPIPE_KAFKA_BROKERS: '127.0.0.1:4',
    RECPIPE_KAFKA_CONTROLLER_PORT: '5',
  });
const mode = (f: string): number => statSync(f).mode & 0o777;

afterEach(() => vi.restoreAllMocks());

describe('stack secrets', () => {
  it('writes redis.conf and ClickHouse users.xml / config.xml readable by their owner only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recpipe-secrets-'));
    const cfg = configIn(dir);
    // a file left world-readable by an older version is tightened too
    mkdirSync(join(dir, 'redis'), { recursive: true });
    writeFileSync(join(dir, 'redis', 'redis.conf'), 'old\n', { mode: 0o644 });
    await redisService(cfg).prepare(() => undefined);
    await clickhouseService(cfg).prepare(() => undefined);
    const conf = join(dir, 'redis', 'redis.conf');
    expect(mode(conf)).toBe(0o600);
    expect(readFileSync(conf, 'utf8')).toContain('requirepass');
    for (const f of ['users.xml', 'config.xml'])
      expect(mode(join(dir, 'clickhouse', f))).toBe(0o600);
  });

  it('gives every ClickHouse user the configured password, `default` included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recpipe-secrets-'));
    await clickhouseService(configIn(dir)).prepare(() => undefined);
    const xml = readFileSync(join(dir, 'clickhouse', 'users.xml'), 'utf8');
    expect(xml).toMatch(/<default>\s*<password>ch-S3cret<\/password>/);
    expect(xml).toMatch(/<recpipe>\s*<password>ch-S3cret<\/password>/);
    expect(xml).not.toMatch(/<password><\/password>/);
  });

  it('stack status masks passwords for people and keeps them for tools (--json)', async () => {
    const cfg = configIn(mkdtempSync(join(tmpdir(), 'recpipe-secrets-')));
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    await stackCommand(['status'], cfg);
    const human = out.join('');
    out.length = 0;
    await stackCommand(['status', '--json'], cfg);
    const json = JSON.parse(out.join('').trim().split('\n').pop() as string) as Record<
      string,
      string
    >;
    vi.restoreAllMocks();
    expect(human).toContain('redis://:***@127.0.0.1:1');
    expect(human).toContain('http://recpipe:***@127.0.0.1:2');
    expect(human).not.toContain(encodeURIComponent(REDIS_PW));
    expect(human).not.toContain(CH_PW);
    expect(decodeURIComponent(new URL(json.redis as string).password)).toBe(REDIS_PW);
    expect(decodeURIComponent(new URL(json.clickhouse as string).password)).toBe(CH_PW);
  });
});

describe('/healthz probe cache', () => {
  it('answers a burst from one probe, probes again after the TTL, and forgets a failed probe', async () => {
    let t = 0;
    let probes = 0;
    let fail = false;
    const health = cachedHealth(
      async () => {
        probes++;
        if (fail) throw new Error('down');
        return { redis: true };
      },
      2_000,
      () => t,
    );
    await Promise.all(Array.from({ length: 100 }, () => health()));
    expect(probes).toBe(1);
    t = 1_999;
    await health();
    expect(probes).toBe(1);
    t = 2_000;
    fail = true;
    await expect(health()).rejects.toThrow('down');
    await Promise.resolve();
    fail = false;
    await health();
    expect(probes).toBe(3);
  });
});
