import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, map, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Batch, GraphBatch, RawMessage } from '../../operators/types.js';
import {
  INGEST_OPERATORS,
  PROCESS_OPERATORS,
  describeTopology,
  formatTopology,
  replayTopology,
  runTopology,
  type Runtime,
} from '../../pipeline/topology.js';

/**
 * The declared topology against the code that wires it: the operators each graph function pipes,
 * in order (optional ones are those behind `opts.X ? op(...) : identity`); and the runtimes
 * against it: run.ts and replay.ts hand one operator per declared stage to runTopology and
 * replayTopology (a stage missing or extra does not compile), which pipe them in declared order.
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

const raw: Batch<RawMessage> = { seq: 7, items: [], commits: [] };
const processed: Omit<GraphBatch, 'seq' | 'commits'> = {
  messages: 0,
  events: [],
  items: [],
  duplicates: 0,
  deadLetters: [],
  recommendations: [],
  purchases: new Map(),
  features: [],
  lateFeatureEvents: 0,
  watermark: 0,
};

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

  it('runs the stages of run in the declared order, each on what the one before emitted', async () => {
    const seen: string[] = [];
    const at =
      <T>(name: string) =>
      (x: T): T => {
        seen.push(name);
        return x;
      };
    const out = await lastValueFrom(
      runTopology({
        source: of(raw).pipe(map(at('source'))),
        ingest: map((b) => ({ ...at<Batch<RawMessage>>('ingest')(b), ...processed })),
        hydrate: map(at('hydrate')),
        graph: map(at('graph')),
        claim: map(at('claim')),
        sinks: map((b) => void at('sinks')(b)),
        commit: (served) =>
          served.pipe(
            map(at('commit')),
            toArray(),
            map(() => undefined),
          ),
      }),
    );
    expect(out).toBeUndefined();
    expect(seen).toEqual(describeTopology('run').map((s) => s.name));
  });

  it('runs the stages of replay in the declared order', async () => {
    const seen: string[] = [];
    const note =
      (name: string) =>
      <T>(x: T): T => {
        seen.push(name);
        return x;
      };
    const out = await lastValueFrom(
      replayTopology({
        source: of(raw).pipe(map(note('source'))),
        ingest: map((b) => ({ ...note('ingest')(b), ...processed })),
        graph: map(note('graph')),
        sinks: map(note('sinks')),
      }),
    );
    expect(out.seq).toBe(7);
    expect(seen).toEqual(describeTopology('replay').map((s) => s.name));
  });

  it('is what run.ts and replay.ts drive', () => {
    expect(read('pipeline/runtime/run.ts')).toContain('runTopology({');
    expect(read('pipeline/runtime/replay.ts')).toContain('replayTopology({');
    expect(inOrder(graph, ['const ingest = recpipeIngest', 'ingest,', 'process,'])).toBe(true);
  });

  it('is printed in docs/ARCHITECTURE.md as recpipe describe prints it, before the rest', () => {
    const doc = read('docs/ARCHITECTURE.md');
    const printed = ['run', 'replay', 'follower']
      .map((r) => formatTopology(r as Runtime))
      .join('\n');
    expect(doc).toContain(`\`\`\`\n${printed}\`\`\``);
    // the doc opens with the folder map, then the topology
    expect(inOrder(doc, ['## Layout', '## The topology', printed, '## Import rules'])).toBe(true);
  });

  it('names files that exist', () => {
    for (const r of ['run', 'replay', 'follower'] as const)
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
