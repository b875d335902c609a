import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readInputRecords } from '../../pipeline/formats/input-records.js';
import { fileBatches } from '../../pipeline/runtime/file-batches.js';

describe('fileBatches keys', () => {
  it('gives every message the key produce would give it, parsed only when read', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fb-keys-')), 'in.jsonl');
    const lines = [
      '{"event_id":"e1","ts":1,"user_id":"u1","item_id":"i1","type":"view"}',
      'not json',
      '{"user_id":"first","props":{"user_id":"inner"},"user_id":"last"}',
      '{"user_id":7}',
      '\ufeff{"user_id":"bom"}',
    ];
    writeFileSync(file, `${lines.join('\n')}\n`);
    const expected: (string | undefined)[] = [];
    for await (const r of readInputRecords(file, 'jsonl'))
      if (r.kind === 'message') expected.push(r.key);
    const got: (string | undefined)[] = [];
    for await (const b of fileBatches(file, 'jsonl', {
      batchSize: 2,
      stats: { records: 0, filtered: 0 },
    }))
      for (const m of b.items) got.push(m.key);
    expect(expected).toEqual(['u1', undefined, 'last', undefined, 'bom']);
    expect(got).toEqual(expected);
  });
});
