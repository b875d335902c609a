import type { Config } from '../../config/schema.js';
import { loadTf } from '../../models/ranking/tf.js';
import type { SequenceModel } from '../../models/sequence/gru-model.js';
import { fitSequenceSteps } from '../../models/sequence/gru-train.js';
import {
  buildSessions,
  encodeSessions,
  sessionHitRate,
  type SessionRow,
} from '../../models/sequence/session-data.js';
import { TABLES, quoteIdent } from '../../sinks/clickhouse-schema.js';
import type { ClickHouseSink } from '../../sinks/clickhouse.js';
import type { Logger } from '../logger.js';
import { yieldToEventLoop } from './event-loop.js';

/** What the trainer needs of the live model: its weights, and a way to replace them. */
export interface SwappableSequence {
  readonly currentModel: SequenceModel | undefined;
  /** How serving cuts events into sequences (the training data is cut the same way). */
  readonly sessionCut: { readonly gapMs: number; readonly bySessionId: boolean };
  swapModel(next: SequenceModel): void;
}

export type SequenceTrainerConfig = Config['sequence']['trainer'];

export interface SequenceOutcome {
  readonly events: number;
  readonly sessions: number;
  readonly items: number;
  /** Held-out HR@10 (sessions that ended last, a tenth) of the fitted model and of the serving one. */
  readonly hrNew: number;
  readonly hrCurrent: number;
  readonly swapped: boolean;
  readonly version: string;
  readonly seconds: number;
  /** The longest gradient step: how long the fit held the event loop at once. */
  readonly longestStepMs: number;
  readonly skipped?: string;
}

/**
 * The newest `maxEvents` events of the last `lookbackMs` (the stream's own clock: the newest
 * event, so a replayed history trains like a live one), sorted by user and time. Runs on
 * ClickHouse 18.16 as is: every value is a number formatted here or a constant of this file.
 * No FINAL: a duplicated event repeats its item, and repeats are collapsed like at serving.
 */
export function sessionsQuery(database: string, t: SequenceTrainerConfig): string {
  const d = quoteIdent(database);
  return `
SELECT user_id, ts_ms, item_id, session_id
FROM (
  SELECT event_id, user_id, ts_ms, item_id, session_id
  FROM ${d}.${TABLES.events}
  WHERE type != 'remove_from_cart'
    AND ts_ms >= (SELECT max(ts_ms) FROM ${d}.${TABLES.events}) - ${Math.floor(t.lookbackMs)}
  ORDER BY ts_ms DESC
  LIMIT ${Math.floor(t.maxEvents)}
)
ORDER BY user_id, ts_ms, event_id`;
}

interface Row {
  user_id: string;
  ts_ms: string | number;
  item_id: string;
  session_id: string;
}

/**
 * One nearline round: read the recent sessions, fit the GRU with TensorFlow.js on all but the
 * tenth that ended last (warm-started from the serving model), compare both on that tenth
 * (next-item HR@10) and swap the new one in unless it is worse. The fit yields to the event
 * loop after every batch, so serving goes on while it trains.
 */
export async function trainSequenceOnce(
  ch: Pick<ClickHouseSink, 'query' | 'database'>,
  seq: SwappableSequence,
  t: SequenceTrainerConfig,
): Promise<SequenceOutcome> {
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  const rows = await ch.query<Row>(sessionsQuery(ch.database, t));
  const sessions = buildSessions(
    rows.map((r): SessionRow => ({
      user: r.user_id,
      ts: Number(r.ts_ms),
      item: r.item_id,
      session: r.session_id,
    })),
    seq.sessionCut.gapMs,
    seq.sessionCut.bySessionId,
  ).sort((a, b) => a.end - b.end);
  const current = seq.currentModel;
  const base = {
    events: rows.length,
    sessions: sessions.length,
    items: 0,
    hrNew: Number.NaN,
    hrCurrent: Number.NaN,
    swapped: false,
    version: current?.version ?? 'none',
    longestStepMs: 0,
  };
  if (sessions.length < t.minSessions)
    return {
      ...base,
      seconds: seconds(),
      skipped: `${sessions.length} sessions, fewer than sequence.trainer.minSessions (${t.minSessions})`,
    };
  const split = Math.max(1, Math.floor(sessions.length * 0.9));
  const train = sessions.slice(0, split);
  const held = sessions.slice(split);
  const { vocab, encoded } = encodeSessions(train);
  const { tf } = await loadTf();
  const steps = fitSequenceSteps(
    tf,
    encoded,
    vocab,
    { epochs: t.epochs, ...(current && { dim: current.dim }) },
    current,
  );
  let longest = 0;
  let fitted: SequenceModel | undefined;
  for (;;) {
    const t0 = performance.now();
    const r = steps.next();
    longest = Math.max(longest, performance.now() - t0);
    if (r.done) {
      fitted = r.value.model;
      break;
    }
    await yieldToEventLoop();
  }
  const model = fitted as SequenceModel;
  const hrNew = sessionHitRate(model, held, 10);
  const hrCurrent = current ? sessionHitRate(current, held, 10) : Number.NaN;
  const better = Number.isNaN(hrCurrent) || !(hrNew < hrCurrent);
  if (better) seq.swapModel(model);
  return {
    ...base,
    items: vocab.length,
    hrNew,
    hrCurrent,
    swapped: better,
    version: better ? model.version : base.version,
    seconds: seconds(),
    longestStepMs: Math.round(longest),
  };
}

export interface SequenceTrainer {
  /** Runs a round now (also what the timer does); rounds never overlap. */
  runOnce(): Promise<SequenceOutcome | undefined>;
  stop(): Promise<void>;
}

/** Runs trainSequenceOnce every `intervalMs`; a failed round is logged, the current model stays. */
export function startSequenceTrainer(
  ch: Pick<ClickHouseSink, 'query' | 'database'>,
  seq: SwappableSequence,
  t: SequenceTrainerConfig,
  log: Pick<Logger, 'info' | 'warn'>,
): SequenceTrainer {
  let running: Promise<SequenceOutcome | undefined> | undefined;
  let stopped = false;
  const round = (x: number): number | null => (Number.isFinite(x) ? Number(x.toFixed(4)) : null);
  const runOnce = (): Promise<SequenceOutcome | undefined> => {
    if (stopped) return Promise.resolve(undefined);
    running ??= trainSequenceOnce(ch, seq, t)
      .then(
        (o) => {
          log.info(
            { ...o, hrNew: round(o.hrNew), hrCurrent: round(o.hrCurrent) },
            'sequence model trained',
          );
          return o;
        },
        (err: unknown) => {
          log.warn(
            { err: (err as Error).message },
            'sequence model training failed; the current model stays',
          );
          return undefined;
        },
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void runOnce(), t.intervalMs);
  timer.unref();
  return {
    runOnce,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
