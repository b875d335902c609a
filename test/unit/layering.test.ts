import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layering of docs/ARCHITECTURE.md, enforced (issue 17): `models/` is plain TypeScript that
 * knows nothing of the stream, so it never imports operators, sinks, the pipeline or RxJS, nor
 * the pure state built on it (stream machinery, features, push, privacy state). Those pure
 * folders never import the I/O edges (operators, sinks, kafka, pipeline, the stack launcher) or
 * RxJS either; `records/` (the types the stages exchange) sits on the pure folders only; sinks
 * and the Kafka client never import operators (their records come from `records/`). Every
 * import, `export … from`, dynamic `import()` and `require()` counts, type-only ones too: a type
 * import still ties the layers.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const IO = ['operators', 'sinks', 'kafka', 'pipeline', 'stack', 'records', 'rxjs'];
const PURE = ['stream', 'features', 'push', 'privacy'];

const FORBIDDEN: Readonly<Record<string, readonly string[]>> = {
  models: [...IO, ...PURE],
  stream: IO,
  features: IO,
  push: IO,
  privacy: IO,
  records: ['operators', 'sinks', 'kafka', 'pipeline', 'stack', 'rxjs'],
  sinks: ['operators'],
  kafka: ['operators'],
};

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = posix.join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) return tsFiles(rel);
    return name.endsWith('.ts') ? [rel] : [];
  });
}

/** What an import names: the top folder of a relative path, or the package of a bare one. */
export function layerOf(file: string, specifier: string): string {
  if (specifier.startsWith('.')) {
    const target = posix.normalize(posix.join(posix.dirname(file), specifier));
    return target.split('/')[0] as string;
  }
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]) as string;
}

export function violations(file: string, text: string): string[] {
  const banned = FORBIDDEN[file.split('/')[0] as string] ?? [];
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .filter((f) => banned.includes(layerOf(file, f.fileName)))
    .map((f) => `${file} imports ${f.fileName}`);
}

describe('layering', () => {
  it('sees every kind of import, and only across the forbidden lines', () => {
    const text = [
      "import type { GraphBatch } from '../../operators/types.js';",
      "export { x } from '../../pipeline/graph.js';",
      "const m = await import('../../sinks/redis.js');",
      "import { fine } from '../operators-like/x.js';",
      "import { map } from 'rxjs';",
      "import { Subject } from 'rxjs/internal/Subject';",
      "import { ok } from './core/own.js';",
      "import { z } from 'zod';",
    ].join('\n');
    expect(violations('models/ranking/x.ts', text)).toEqual([
      'models/ranking/x.ts imports ../../operators/types.js',
      'models/ranking/x.ts imports ../../pipeline/graph.js',
      'models/ranking/x.ts imports ../../sinks/redis.js',
      'models/ranking/x.ts imports rxjs',
      'models/ranking/x.ts imports rxjs/internal/Subject',
    ]);
    expect(violations('sinks/x.ts', "import type { A } from '../operators/types.js';")).toEqual([
      'sinks/x.ts imports ../operators/types.js',
    ]);
    expect(violations('sinks/x.ts', "import type { A } from '../records/index.js';")).toEqual([]);
    expect(violations('pipeline/x.ts', "import { a } from '../operators/types.js';")).toEqual([]);
  });

  it('holds in the product code', () => {
    const files = Object.keys(FORBIDDEN).flatMap(tsFiles);
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((f) => violations(f, readFileSync(join(ROOT, f), 'utf8')));
    expect(found).toEqual([]);
  });

  it('leaves in operators/ only operators the product pipes (tests and benches do not count)', () => {
    const imported = new Set<string>();
    for (const f of tsFiles('pipeline'))
      for (const { fileName } of ts.preProcessFile(readFileSync(join(ROOT, f), 'utf8'), true, true)
        .importedFiles)
        if (fileName.startsWith('.'))
          imported.add(posix.normalize(posix.join(posix.dirname(f), fileName)));
    const operators = tsFiles('operators').filter((f) => f !== 'operators/types.ts');
    expect(operators.length).toBeGreaterThan(5);
    const unused = operators.filter((f) => !imported.has(f.replace(/\.ts$/, '.js')));
    expect(unused).toEqual([]);
  });
});
