import { z } from 'zod';
import { DAY, HOUR, MINUTE } from './common.js';

/** Serving policy and the learned ranker (docs/ranking.md). */
export const rankingSchema = z
  .object({
    /** The model is asked for pipeline.topK × this, so filters leave enough to serve. */
    overfetch: z.number().min(1).max(10).default(2),
    /** Drop items whose latest catalog event says `in_stock: false`. */
    excludeOutOfStock: z.boolean().default(true),
    /** Score multipliers (1: none; 0: never served), per category and per item id. */
    boosts: z
      .object({
        categories: z.record(z.number().min(0)).default({}),
        items: z.record(z.number().min(0)).default({}),
      })
      .default({}),
    /** At most this many items of one category in a served list (0: no cap). */
    maxPerCategory: z.number().int().min(0).default(0),
    /** Maximal marginal relevance: 1 = relevance only (off); lower trades it for diversity. */
    mmrLambda: z.number().min(0).max(1).default(1),
    /** Nearline training of the ranker from ClickHouse (model `ranked` in `run`). */
    trainer: z
      .object({
        enabled: z.boolean().default(true),
        /** Time between fits; the first one runs this long after start. */
        intervalMs: z
          .number()
          .int()
          .min(1_000)
          .default(10 * MINUTE),
        /** Served lists of this period (by serving time) are the training data. */
        lookbackMs: z.number().int().min(MINUTE).default(DAY),
        /** An item acted on within this long after it was served is a positive. */
        horizonMs: z.number().int().min(1_000).default(HOUR),
        /** Fewer labelled rows (or no positive) than this: keep the current model. */
        minExamples: z.number().int().min(1).default(500),
        /** At most this many served lists per fit (the newest). */
        maxLists: z.number().int().min(1).default(20_000),
        epochs: z.number().int().min(1).max(100).default(8),
      })
      .default({}),
  })
  .default({});

/** The GRU session model (models/sequence, docs/BENCHMARKS.md "Sequence model"): opt-in. */
export const sequenceSchema = z
  .object({
    /** Its weight in the `default` blend; 0 (default) leaves it out entirely. */
    weight: z.number().min(0).default(0),
    /** `replay` refits in-process every this many events on the last `replayTrainWindow`. */
    replayTrainEvery: z.number().int().min(100).default(5_000),
    replayTrainWindow: z.number().int().min(1_000).default(50_000),
    /**
     * 0: `replay` fits in-process, inside the event that triggers the fit. N > 0: on a worker
     * thread, swapped in exactly N events later (same results whatever the timing).
     */
    replayFitLag: z.number().int().min(0).default(0),
    /** `replay`'s first refit comes after this many events; the gap then doubles. */
    replayFirstFit: z.number().int().min(1).default(1_000),
    /** Embedding and state size of `replay`'s GRU (the nearline trainer keeps the model's). */
    replayDim: z.number().int().min(1).max(256).default(32),
    /** Passes over the window per `replay` refit. */
    replayEpochs: z.number().int().min(1).max(50).default(3),
    /** A `replay` refit makes at least this many predictions (extra epochs, at most 5). */
    replayMinFitPositions: z.number().int().min(0).default(20_000),
    /** GRU candidates from a scan of the whole vocabulary per list; 0 scores only the others'. */
    candidates: z.number().int().min(0).default(30),
    /** With `candidates` 0, the GRU scores only the blend's best this many (0: all). */
    rerankDepth: z.number().int().min(0).default(0),
    /**
     * Weight of the GRU's Markov prior (online next-item counts of the session's last 3
     * items, models/sequence/transitions.ts); 0: the GRU alone.
     */
    markovWeight: z.number().min(0).default(30),
    /** Nearline fits of `run` from the ClickHouse `events` table. */
    trainer: z
      .object({
        enabled: z.boolean().default(true),
        /** Time between fits; the first one runs this long after start. */
        intervalMs: z
          .number()
          .int()
          .min(1_000)
          .default(10 * MINUTE),
        /** Events of this period (before the newest event) are the training data. */
        lookbackMs: z
          .number()
          .int()
          .min(MINUTE)
          .default(7 * DAY),
        /** At most this many events per fit (the newest). */
        maxEvents: z.number().int().min(100).default(200_000),
        /** Fewer sessions (of two items or more) than this: keep the current model. */
        minSessions: z.number().int().min(1).default(200),
        epochs: z.number().int().min(1).max(50).default(2),
      })
      .default({}),
  })
  .default({});
