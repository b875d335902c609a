/**
 * The topology as data (issue 17 item 1, Kafka Streams' `describe()`): the stages a record
 * passes, declared once for both runtimes, apart from how they run them (threads of work,
 * commits, state). `recpipe describe` prints it; test/unit/topology.test.ts checks it against
 * what graph.ts, run.ts and replay.ts wire, so the description cannot drift from the code.
 */
export type Runtime = 'run' | 'replay';

export interface Stage {
  readonly name: string;
  /** Where the stage is wired (file, relative to the package root). */
  readonly at: string;
  readonly does: string;
  /** The graph's operators in order; `?` marks one only present when its option is on. */
  readonly operators?: readonly string[];
}

/** Raw messages to accepted events (pipeline/graph.ts `recpipeIngest`). */
export const INGEST_OPERATORS = ['parseMessages', 'hashUserIds?', 'dedupeEvents'] as const;

/** Accepted events to served state (pipeline/graph.ts `recpipeProcess`). */
export const PROCESS_OPERATORS = [
  'dropErased?',
  'withholdOptedOut?',
  'updateFeatures',
  'learnAndRecommend',
  'filterRecommendations',
  'diversifyRecommendations',
  'decidePushes?',
  'restoreWithheld?',
] as const;

const INGEST: Stage = {
  name: 'ingest',
  at: 'pipeline/graph.ts',
  does: 'parse and validate (bad input to dead letters), pseudonymise, drop repeats',
  operators: INGEST_OPERATORS,
};

const PROCESS: Stage = {
  name: 'graph',
  at: 'pipeline/graph.ts',
  does: 'features, learning, serving lists, push decisions',
  operators: PROCESS_OPERATORS,
};

const TOPOLOGIES: Readonly<Record<Runtime, readonly Stage[]>> = {
  run: [
    {
      name: 'source',
      at: 'kafka/consumer-source.ts',
      does: 'Kafka consumer: events, items and preferences topics in batches with commit points',
    },
    INGEST,
    {
      name: 'hydrate',
      at: 'pipeline/runtime/run.ts',
      does: "load the batch's users' state (features, push state) before learning",
    },
    PROCESS,
    {
      name: 'claim',
      at: 'pipeline/runtime/push-durability.ts',
      does: 'cross-instance push claims and the push outbox, so each push is sent once',
    },
    {
      name: 'sinks',
      at: 'pipeline/runtime/delivery.ts',
      does: 'serving state to Redis, analytics to ClickHouse, pushes and dead letters to Kafka',
    },
    {
      name: 'commit',
      at: 'pipeline/runtime/delivery.ts',
      does: 'dead letters, push messages and input offsets in one Kafka transaction, in batch order, once every store acknowledged',
    },
  ],
  replay: [
    {
      name: 'source',
      at: 'pipeline/runtime/file-batches.ts',
      does: 'a file read in batches shaped like Kafka batches (line number = offset)',
    },
    INGEST,
    PROCESS,
    {
      name: 'sinks',
      at: 'sinks/memory.ts',
      does: 'the in-memory sink (counts, served lists, pushes) and the prequential evaluation',
    },
  ],
};

export function describeTopology(runtime: Runtime): readonly Stage[] {
  return TOPOLOGIES[runtime];
}

/** The printed form: one line per stage, the graph's operators indented below theirs. */
export function formatTopology(runtime: Runtime): string {
  const lines = [`topology: ${runtime}`];
  describeTopology(runtime).forEach((s, i) => {
    lines.push(`  ${i + 1}. ${s.name.padEnd(8)} ${s.does}  [${s.at}]`);
    for (const op of s.operators ?? [])
      lines.push(`       ${op.endsWith('?') ? `${op.slice(0, -1)} (when configured)` : op}`);
  });
  return lines.join('\n') + '\n';
}
