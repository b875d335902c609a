import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validateMessage } from '../../stream/validate-event.js';
import { readInputRecords } from '../../pipeline/formats/input-records.js';
import { reasonCode } from '../../sinks/types.js';
import { FIXTURE_NOW, corpusBytes, hostileCorpus } from '../fixtures/hostile-corpus.js';

const FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'hostile.jsonl');
const corpus = hostileCorpus(FIXTURE_NOW);

describe('the hostile corpus (test/fixtures)', () => {
  it('hostile.jsonl is the generator output for FIXTURE_NOW, byte for byte', () => {
    expect(readFileSync(FILE).equals(corpusBytes(corpus))).toBe(true);
  });

  it('has at least 30 kinds of bad or adversarial lines', () => {
    const kinds = new Set(corpus.lines.filter((l) => l.kind !== 'background').map((l) => l.kind));
    expect(kinds.size).toBeGreaterThanOrEqual(30);
  });

  it('read back through the file reader, every line is what the corpus says', async () => {
    const got: string[] = [];
    for await (const r of readInputRecords(FILE, 'jsonl')) {
      if (r.kind !== 'message') continue;
      const v = validateMessage(r.value, { now: () => FIXTURE_NOW });
      got.push(v.ok ? 'valid' : reasonCode(v.reason));
    }
    expect(got).toEqual(corpus.lines.map((l) => l.expect));
  });

  it('produce keys each line by its parsed user_id', async () => {
    const keys = new Map<string, string | undefined>();
    let i = 0;
    for await (const r of readInputRecords(FILE, 'jsonl'))
      if (r.kind === 'message') keys.set(corpus.lines[i++]?.kind ?? '', r.key);
    expect(keys.get('user_id inside props first (produce key spoofing)')).toBe('props-keyed');
    expect(keys.get('duplicate user_id keys (the last one counts)')).toBe('props-keyed');
    expect(keys.get('invalid UTF-8 byte in user_id')).toBeUndefined();
  });
});
