import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  INGEST_OPERATORS,
  PROCESS_OPERATORS,
  describeTopology,
  formatTopology,
} from '../../pipeline/topology.js';

/**
 * The declared topology against the code that wires it: the operators each graph function pipes,
 * in order (optional ones are those behind `opts.X ? op(...) : identity`), and the order in which
 * run.ts and replay.ts call their stages. A stage added to a runtime and not to the description
 * (or the reverse) fails here.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (f: string): string => readFileSync(join(ROOT, f), 'utf8');

/** The operators piped in the body of `export function NAME`, `?` for the conditional ones. */
function pipedOperators(source: string, fn: string): string[] {
  const start = source.indexOf(`export function ${fn}(`);
  expect(start).toBeGreaterThanOrEqual(0);
  const next = source.indexOf('\nexport ', start + 1);
  const body = source.slice(start, next < 0 ? undefined : next);
  const pipe = body.slice(body.indexOf('source.pipe('));
  const imported = [
    ...source.matchAll(/import \{ (\w+) \} from '\.\.\/operators\/[\w-]+\.js'/g),
  ].map((m) => m[1] as string);
  const calls = [...pipe.matchAll(/(\?\s*)?\b(\w+)\(/g)]
    .filter((m) => imported.includes(m[2] as string))
    .map((m) => (m[1] ? `${m[2]}?` : (m[2] as string)));
  return calls;
}

/** Position of each marker in the file; all must exist and come in the given order. */
function inOrder(source: string, markers: readonly string[]): boolean {
  const at = markers.map((m) => source.indexOf(m));
  return at.every((p, i) => p >= 0 && (i === 0 || p > (at[i - 1] as number)));
}

describe('topology', () => {
  const graph = read('pipeline/graph.ts');

  it('declares the operators graph.ts pipes, in order', () => {
    expect(pipedOperators(graph, 'recpipeIngest')).toEqual([...INGEST_OPERATORS]);
    expect(pipedOperators(graph, 'recpipeProcess')).toEqual([...PROCESS_OPERATORS]);
  });

  it('declares the stages run.ts wires, in order', () => {
    expect(describeTopology('run').map((s) => s.name)).toEqual([
      'source',
      'ingest',
      'hydrate',
      'graph',
      'claim',
      'sinks',
      'commit',
    ]);
    const run = read('pipeline/runtime/run.ts');
    expect(
      inOrder(run, [
        'source.batches().pipe(',
        'recpipeIngest(graph)',
        'concatMap(prepare)',
        'recpipeProcess(graph)',
        'durable.attach(batch)',
        'delivery.serve(',
      ]),
    ).toBe(true);
  });

  it('declares the stages replay.ts wires, in order', () => {
    expect(describeTopology('replay').map((s) => s.name)).toEqual([
      'source',
      'ingest',
      'graph',
      'sinks',
    ]);
    const replay = read('pipeline/runtime/replay.ts');
    expect(inOrder(replay, ['fileBatches(', 'recpipeGraph(', 'sink.write(batch)'])).toBe(true);
    expect(inOrder(graph, ['const ingest = recpipeIngest', 'ingest,', 'process,'])).toBe(true);
  });

  it('names files that exist', () => {
    for (const r of ['run', 'replay'] as const)
      for (const s of describeTopology(r)) expect(() => read(s.at), s.at).not.toThrow();
  });

  it('prints one line per stage and the operators under theirs', () => {
    const text = formatTopology('replay');
    expect(text.split('\n')[0]).toBe('topology: replay');
    expect(text).toContain('  1. source ');
    expect(text).toContain('       hashUserIds (when configured)');
    expect(text.indexOf('parseMessages')).toBeLessThan(text.indexOf('updateFeatures'));
  });
});
