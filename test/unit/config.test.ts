import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config/load.js';

describe('loadConfig', () => {
  it('has working defaults with no file and no env', () => {
    const c = loadConfig(undefined, {});
    expect(c.kafka.inputTopic).toBe('clickstream');
    expect(c.kafka.dlqTopic).toBe('recpipe-dlq');
    expect(c.redis.prefix).toBe('recpipe:');
    expect(c.clickhouse.database).toBe('recpipe');
    expect(c.http.port).toBe(9464);
  });

  it('layers file then env, converting env numbers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'recpipe-cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({ kafka: { groupId: 'from-file', inputTopic: 'file-topic' } }),
    );
    const c = loadConfig(file, {
      RECPIPE_KAFKA_GROUP_ID: 'from-env',
      RECPIPE_PIPELINE_BATCH_MAX_MESSAGES: '42',
    });
    expect(c.kafka.groupId).toBe('from-env');
    expect(c.kafka.inputTopic).toBe('file-topic');
    expect(c.pipeline.batchMaxMessages).toBe(42);
  });

  it('names the bad field in a clear error', () => {
    expect(() => loadConfig(undefined, { RECPIPE_PIPELINE_BATCH_MAX_MESSAGES: 'many' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig(undefined, { RECPIPE_PIPELINE_BATCH_MAX_MESSAGES: 'many' })).toThrow(
      /pipeline\.batchMaxMessages/,
    );
  });

  it('rejects unknown keys in the file and unreadable files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'recpipe-cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ kafak: {} }));
    expect(() => loadConfig(file, {})).toThrow(/kafak|Unrecognized/);
    expect(() => loadConfig(join(dir, 'missing.json'), {})).toThrow(/cannot read config file/);
  });
});
