import type { Observable, OperatorFunction } from 'rxjs';
import type { Batch, GraphBatch, RawMessage } from '../operators/types.js';
import type { RunBatch } from './runtime/run-stages.js';

/**
 * The topology as data (issue 17 item 1, Kafka Streams' `describe()`): the stages a record
 * passes, declared once for both runtimes, apart from how they run them (threads of work,
 * commits, state). The runtimes are drivers of it: each hands `runTopology` / `replayTopology`
 * one operator per declared stage, and the stages are piped in the order declared here, so the
 * printed description (`recpipe describe`) is the order the code runs. test/unit/topology.test.ts
 * checks the graph's operators against what graph.ts pipes.
 */
export type Runtime = 'run' | 'replay' | 'follower';

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

const INGEST: Omit<Stage, 'name'> = {
  at: 'pipeline/graph.ts',
  does: 'parse and validate (bad input to dead letters), pseudonymise, drop repeats',
  operators: INGEST_OPERATORS,
};

const PROCESS: Omit<Stage, 'name'> = {
  at: 'pipeline/graph.ts',
  does: 'features, learning, serving lists, push decisions',
  operators: PROCESS_OPERATORS,
};

/** The stages of each runtime, in the order a record passes them. */
export const RUN_STAGES = [
  'source',
  'ingest',
  'hydrate',
  'graph',
  'claim',
  'sinks',
  'commit',
] as const;
export const REPLAY_STAGES = ['source', 'ingest', 'graph', 'sinks'] as const;
/**
 * `run`'s follower (docs/scaling.md): run's first two stages on the partitions other instances
 * own, then only the learning of the graph stage. Its operators are run's (follower-prefix.ts).
 */
export const FOLLOWER_STAGES = ['source', 'ingest', 'learn'] as const;

/** What the follower learns with: the model side of learnAndRecommend, behind dropErased?. */
export const FOLLOWER_LEARN_OPERATORS = [
  'dropErased?',
  'learnAndRecommend (learning only)',
] as const;

/** What each stage of `run` emits: the next stage's input. */
export interface RunRecords {
  readonly source: Batch<RawMessage>;
  readonly ingest: GraphBatch;
  readonly hydrate: GraphBatch;
  readonly graph: GraphBatch;
  readonly claim: RunBatch;
  /** One per batch, once its serving writes were acknowledged. */
  readonly sinks: void;
  /** Once, when everything handed to the sinks is committed. */
  readonly commit: void;
}

/** What each stage of `replay` emits. */
export interface ReplayRecords {
  readonly source: Batch<RawMessage>;
  readonly ingest: GraphBatch;
  readonly graph: GraphBatch;
  readonly sinks: GraphBatch;
}

type Details<N extends string> = Readonly<Record<N, Omit<Stage, 'name'>>>;

const RUN: Details<(typeof RUN_STAGES)[number]> = {
  source: {
    at: 'kafka/consumer-source.ts',
    does: 'Kafka consumer: events, items and preferences topics in batches with commit points',
  },
  ingest: INGEST,
  hydrate: {
    at: 'pipeline/runtime/run.ts',
    does: "load the batch's users' state (features, push state) before learning",
  },
  graph: PROCESS,
  claim: {
    at: 'pipeline/runtime/push-durability.ts',
    does: 'the state changes committed with the batch (push and feature changelogs, item deltas); push claims (outbox) open the serving lane',
  },
  sinks: {
    at: 'pipeline/runtime/delivery.ts',
    does: 'serving lane to Redis as soon as a batch is processed; analytics lane to ClickHouse in bulk behind it',
  },
  commit: {
    at: 'pipeline/runtime/delivery.ts',
    does: 'dead letters, push messages and input offsets in one Kafka transaction, in batch order, once every store acknowledged',
  },
};

const REPLAY: Details<(typeof REPLAY_STAGES)[number]> = {
  source: {
    at: 'pipeline/runtime/file-batches.ts',
    does: 'a file read in batches shaped like Kafka batches (line number = offset)',
  },
  ingest: INGEST,
  graph: PROCESS,
  sinks: {
    at: 'sinks/memory.ts',
    does: 'the in-memory sink (counts, served lists, pushes) and the prequential evaluation',
  },
};

const FOLLOWER: Details<(typeof FOLLOWER_STAGES)[number]> = {
  source: {
    at: 'pipeline/runtime/follower.ts',
    does: 'a second Kafka consumer per instance: the input partitions other instances own, assigned by itself, never committed',
  },
  ingest: {
    at: 'pipeline/runtime/follower-prefix.ts',
    does: "run's ingest; between hashUserIds and dedupeEvents, events past the frontier (served event time + staleness bound) wait and the learn ledger claims each offset",
    operators: INGEST_OPERATORS,
  },
  learn: {
    at: 'pipeline/runtime/follower-prefix.ts',
    does: 'the learning of the graph stage: item state converges across instances (only the user side with the item state replica)',
    operators: FOLLOWER_LEARN_OPERATORS,
  },
};

const TOPOLOGIES: Readonly<Record<Runtime, readonly Stage[]>> = {
  run: RUN_STAGES.map((name) => ({ name, ...RUN[name] })),
  replay: REPLAY_STAGES.map((name) => ({ name, ...REPLAY[name] })),
  follower: FOLLOWER_STAGES.map((name) => ({ name, ...FOLLOWER[name] })),
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

/**
 * One operator per stage, typed by what flows between them: the first stage is the source, and
 * each later one takes what the stage before it emits (`Records[previous]`) to `Records[own]`.
 * A stage missing, extra or out of type fails to compile.
 */
export type StageOperators<Names extends readonly string[], Records> = Names extends readonly [
  infer First extends keyof Records & string,
  ...infer Rest extends readonly string[],
]
  ? { readonly [K in First]: Observable<Records[First]> } & Chained<First, Rest, Records>
  : never;

type Chained<
  Prev extends keyof Records,
  Names extends readonly string[],
  Records,
> = Names extends readonly [
  infer N extends keyof Records & string,
  ...infer Rest extends readonly string[],
]
  ? { readonly [K in N]: OperatorFunction<Records[Prev], Records[N]> } & Chained<N, Rest, Records>
  : unknown;

/**
 * Pipes the stages in declared order. The types were checked by StageOperators where the table
 * was built (runTopology, replayTopology); a table keyed by name cannot carry them through a
 * loop, hence the casts here.
 */
function composeStages<Out>(order: readonly string[], ops: object): Observable<Out> {
  const table = new Map(Object.entries(ops));
  const [first, ...rest] = order;
  let out = table.get(first as string) as Observable<unknown>;
  for (const name of rest) out = out.pipe(table.get(name) as OperatorFunction<unknown, unknown>);
  return out as Observable<Out>;
}

/** `run` driven by its description: Kafka in, Redis, ClickHouse and Kafka out. */
export const runTopology = (
  ops: StageOperators<typeof RUN_STAGES, RunRecords>,
): Observable<RunRecords['commit']> => composeStages(RUN_STAGES, ops);

/** `replay` driven by its description: a file in, memory out. */
export const replayTopology = (
  ops: StageOperators<typeof REPLAY_STAGES, ReplayRecords>,
): Observable<ReplayRecords['sinks']> => composeStages(REPLAY_STAGES, ops);
