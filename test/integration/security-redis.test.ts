import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { createRedisSink, RedisAuthError } from '../../sinks/redis.js';
import { lastJson, runCli, waitFor } from '../support/cli.js';

/**
 * Redis with AUTH, on a throwaway `redis-server --requirepass` of this test's own (the shared
 * stack is not reconfigured). The right credentials work from env alone, from the URL, and for an
 * ACL user; wrong or missing ones fail fast with a message that says what to set and never
 * contains the password that was tried.
 */
const PASSWORD = 'Tr0ub4dor&3 with spaces';
const WRONG = 'wrong-Pa55-do-not-log';
let server: ChildProcess | undefined;
let port = 0;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

const envFor = (extra: Record<string, string>): Record<string, string> => ({
  RECPIPE_REDIS_URL: `redis://127.0.0.1:${port}`,
  RECPIPE_REDIS_PREFIX: 'sec:',
  RECPIPE_LOG_LEVEL: 'warn',
  ...extra,
});

beforeAll(async () => {
  port = await freePort();
  server = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--requirepass',
      PASSWORD,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      mkdtempSync(`${tmpdir()}/recpipe-sec-redis-`),
    ],
    { stdio: 'ignore' },
  );
  const cfg = loadConfig(undefined, envFor({ RECPIPE_REDIS_PASSWORD: PASSWORD }));
  const sink = createRedisSink(cfg);
  await waitFor(
    'the throwaway redis-server',
    async () => {
      await sink.ping();
      return true;
    },
    20_000,
  );
  await sink.writeRecommendations([
    {
      userId: 'alice',
      items: [{ itemId: 'i1', score: 0.9, reason: 'because' }],
      modelVersion: 'm@1',
      eventTs: 1,
      updatedAt: 2,
    },
  ]);
  await sink.close();
});

afterAll(() => {
  server?.kill('SIGKILL');
});

describe('Redis AUTH', () => {
  it('recpipe recs works with the password from the environment only', async () => {
    const r = await runCli(
      ['recs', 'alice', '--json'],
      envFor({ RECPIPE_REDIS_PASSWORD: PASSWORD }),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson<{ items: { item_id: string }[] }>(r.stdout).items[0]?.item_id).toBe('i1');
  });

  it('works with the password in the URL and with an ACL user', async () => {
    const url = `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`;
    const viaUrl = await runCli(['recs', 'alice', '--json'], envFor({ RECPIPE_REDIS_URL: url }));
    expect(viaUrl.code, viaUrl.stderr).toBe(0);

    // Downstream readers need little more than reads: `recs` uses MULTI for a consistent pair.
    const raw = new Redis({ port, host: '127.0.0.1', password: PASSWORD });
    await raw.call(
      'ACL',
      'SETUSER',
      'reader',
      'on',
      '>reader-pw',
      '~sec:*',
      '+@read',
      '+multi',
      '+exec',
      '+ping',
      '+info',
    );
    raw.disconnect();
    const acl = await runCli(
      ['recs', 'alice', '--json'],
      envFor({ RECPIPE_REDIS_USERNAME: 'reader', RECPIPE_REDIS_PASSWORD: 'reader-pw' }),
    );
    expect(acl.code, acl.stderr).toBe(0);
    expect(lastJson<{ items: unknown[] }>(acl.stdout).items).toHaveLength(1);
  });

  it('a wrong password fails fast and clearly, without echoing it', async () => {
    const started = Date.now();
    const r = await runCli(['recs', 'alice', '--json'], envFor({ RECPIPE_REDIS_PASSWORD: WRONG }));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/rejected the credentials/);
    expect(r.stderr).toMatch(/RECPIPE_REDIS_PASSWORD/);
    expect(r.stderr).not.toContain(WRONG);
    expect(r.stdout).toBe('');

    const sink = createRedisSink(loadConfig(undefined, envFor({ RECPIPE_REDIS_PASSWORD: WRONG })));
    const t = Date.now();
    await expect(sink.ping()).rejects.toThrow(RedisAuthError);
    expect(Date.now() - t).toBeLessThan(3_000);
    await sink.close();
  });

  it('a missing password is named as the problem', async () => {
    const r = await runCli(['recs', 'alice', '--json'], envFor({}));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/rejected the credentials \(NOAUTH/);
  });

  it('recpipe run refuses to start with wrong credentials instead of hanging', async () => {
    const started = Date.now();
    const url = `redis://:${WRONG}@127.0.0.1:${port}`;
    const r = await runCli(['run', '--http-port', '0'], envFor({ RECPIPE_REDIS_URL: url }), 60_000);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/? rejected the credentials/,
    );
    expect(r.stderr).not.toContain(WRONG);
  });
});
