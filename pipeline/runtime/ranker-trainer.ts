import type { Config } from '../../config/schema.js';
import { F, type RankerModel } from '../../models/ranking/model.js';
import { auc, fitRanker } from '../../models/ranking/train.js';
import { TABLES, quoteIdent } from '../../sinks/clickhouse-schema.js';
import type { ClickHouseSink } from '../../sinks/clickhouse.js';
import type { Logger } from '../logger.js';

/** What the trainer needs of the live recommender: its weights, and a way to replace them. */
export interface SwappableRanker {
  readonly currentModel: RankerModel;
  swapModel(next: RankerModel): void;
}

export type TrainerConfig = Config['ranking']['trainer'];

export interface TrainOutcome {
  readonly lists: number;
  readonly examples: number;
  readonly positives: number;
  /** Held-out AUC (the newest 20% of lists) of the fitted model and of the one serving. */
  readonly aucNew: number;
  readonly aucCurrent: number;
  readonly swapped: boolean;
  readonly version: string;
  readonly seconds: number;
  /** Why nothing was fitted (too few examples, no positive), when so. */
  readonly skipped?: string;
}

/** Event types that make a served item a positive. */
const POSITIVE_TYPES = ['click', 'add_to_cart', 'purchase', 'push_click'];

/**
 * The labelled rows, in one query ClickHouse 18.16 runs as is (no query parameters: every value
 * is a number formatted here or a constant of this file, and the database is a checked
 * identifier). Time is the stream's own clock, the event time of the newest served list, so a
 * replayed historical stream trains like a live one:
 *  - served lists from [newest − lookback, newest − horizon] (older than the horizon, so every
 *    label is final), the newest `maxLists` of them, one row per served item with its features;
 *  - label 1 when the user clicked, carted or bought that item within `horizon` after it was
 *    served (from `events`), else 0.
 */
export function trainingQuery(database: string, t: TrainerConfig): string {
  const d = quoteIdent(database);
  const lookback = Math.floor(t.lookbackMs);
  const horizon = Math.floor(t.horizonMs);
  const maxLists = Math.floor(t.maxLists);
  const types = POSITIVE_TYPES.map((x) => `'${x}'`).join(', ');
  return `
SELECT user_id, served_ms, item, feats,
  arrayExists(x -> x > served_ms AND x <= served_ms + ${horizon}, times) AS label
FROM (
  SELECT user_id, event_ts_ms AS served_ms, item, feats
  FROM (
    SELECT user_id, event_ts_ms, items, features
    FROM ${d}.${TABLES.servedFeatures} FINAL
    WHERE event_ts_ms >= (SELECT max(event_ts_ms) FROM ${d}.${TABLES.servedFeatures}) - ${lookback}
      AND event_ts_ms <= (SELECT max(ts_ms) FROM ${d}.${TABLES.events}) - ${horizon}
      AND length(items) = length(features)
    ORDER BY event_ts_ms DESC
    LIMIT ${maxLists}
  )
  ARRAY JOIN items AS item, features AS feats
) AS served
ANY LEFT JOIN (
  SELECT user_id, item_id AS item, groupArray(ts_ms) AS times
  FROM ${d}.${TABLES.events}
  WHERE type IN (${types})
    AND ts_ms >= (SELECT max(event_ts_ms) FROM ${d}.${TABLES.servedFeatures}) - ${lookback}
  GROUP BY user_id, item_id
) AS acted USING (user_id, item)
ORDER BY served_ms, user_id, item`;
}

interface Row {
  user_id: string;
  served_ms: string | number;
  item: string;
  feats: number[];
  label: number | string;
}

/**
 * One nearline round: query the labelled served lists, fit the wide & deep ranker with
 * TensorFlow.js on the older 80% (by serving time), compare it with the serving model on the
 * newest 20%, and swap it in when it ranks those at least as well (held-out AUC). The swap is
 * one reference assignment inside the recommender: batches in flight finish with the old
 * weights or start with the new ones, never a mix.
 */
export async function trainOnce(
  ch: Pick<ClickHouseSink, 'query' | 'database'>,
  ranker: SwappableRanker,
  t: TrainerConfig,
): Promise<TrainOutcome> {
  const started = performance.now();
  const rows = await ch.query<Row>(trainingQuery(ch.database, t));
  const n = rows.length;
  const X = new Float32Array(n * F);
  const y = new Float32Array(n);
  const lists = new Set<string>();
  let positives = 0;
  let kept = 0;
  for (const r of rows) {
    if (!Array.isArray(r.feats) || r.feats.length !== F) continue;
    for (let f = 0; f < F; f++) X[kept * F + f] = Number(r.feats[f]);
    const label = Number(r.label) > 0 ? 1 : 0;
    y[kept++] = label;
    positives += label;
    lists.add(`${r.user_id}\u0000${r.served_ms}`);
  }
  const current = ranker.currentModel;
  const base = {
    lists: lists.size,
    examples: kept,
    positives,
    aucNew: Number.NaN,
    aucCurrent: Number.NaN,
    swapped: false,
    version: current.version,
  };
  const seconds = (): number => (performance.now() - started) / 1000;
  if (kept < t.minExamples || positives === 0 || positives === kept) {
    const skipped =
      kept < t.minExamples
        ? `${kept} labelled rows, fewer than ranking.trainer.minExamples (${t.minExamples})`
        : 'the labels are all one class';
    return { ...base, seconds: seconds(), skipped };
  }
  // rows come ordered by serving time: fit on the past, judge on the most recent fifth
  const split = Math.max(1, Math.floor(kept * 0.8));
  const fit = await fitRanker(X, y, split, { hidden: current.hidden, epochs: t.epochs });
  const aucNew = auc(fit.model, X, y, split, kept);
  const aucCurrent = auc(current, X, y, split, kept);
  const better = Number.isNaN(aucCurrent) || !(aucNew < aucCurrent);
  if (better) ranker.swapModel(fit.model);
  return {
    ...base,
    aucNew,
    aucCurrent,
    swapped: better,
    version: better ? fit.model.version : current.version,
    seconds: seconds(),
  };
}

export interface RankerTrainer {
  /** Runs a round now (also what the timer does); rounds never overlap. */
  runOnce(): Promise<TrainOutcome | undefined>;
  stop(): Promise<void>;
}

/** Runs trainOnce every `intervalMs`; a failed round is logged and the current model stays. */
export function startRankerTrainer(
  ch: Pick<ClickHouseSink, 'query' | 'database'>,
  ranker: SwappableRanker,
  t: TrainerConfig,
  log: Pick<Logger, 'info' | 'warn'>,
  onOutcome?: (o: TrainOutcome) => void,
): RankerTrainer {
  let running: Promise<TrainOutcome | undefined> | undefined;
  let stopped = false;
  const runOnce = (): Promise<TrainOutcome | undefined> => {
    if (stopped) return Promise.resolve(undefined);
    running ??= trainOnce(ch, ranker, t)
      .then(
        (o) => {
          log.info(
            { ...o, aucNew: round(o.aucNew), aucCurrent: round(o.aucCurrent) },
            'ranker trained',
          );
          onOutcome?.(o);
          return o;
        },
        (err: unknown) => {
          log.warn(
            { err: (err as Error).message },
            'ranker training failed; the current model stays',
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

const round = (x: number): number | null => (Number.isFinite(x) ? Number(x.toFixed(4)) : null);
