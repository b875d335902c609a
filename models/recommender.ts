import type { ClickEvent, ItemEvent, ScoredItem } from './event.js';

/**
 * Every recommender learns online, one event at a time, and answers top-K on demand.
 * No RxJS and no I/O here: the runtimes own time, batching and persistence.
 */
export interface Recommender {
  readonly name: string;
  learn(event: ClickEvent): void;
  /** Best first; never returns an item in `exclude`; at most `k` items. */
  recommend(userId: string, k: number, exclude: ReadonlySet<string>): ScoredItem[];
  /** Catalog events (titles, categories) for models with content features; optional. */
  learnItem?(item: ItemEvent): void;
  /** The item's learned factor vector, for diversity by similarity; optional. */
  itemVector?(itemId: string): Float32Array | undefined;
  /** The whole learned state, so a restarted job does not start cold; optional. */
  snapshot?(): Uint8Array;
  /**
   * snapshot() in steps (each `next()` one part of the work, the last returns the bytes), so a
   * caller can give the event loop back between parts; the model must not learn meanwhile.
   */
  snapshotSteps?(): Generator<void, Uint8Array, undefined>;
  /** Replaces the state with a snapshot() of the same model and options; optional. */
  restore?(bytes: Uint8Array): void;
}

/** A recommender whose state can be saved and restored (every built-in model is one). */
export interface SnapshotRecommender extends Recommender {
  snapshot(): Uint8Array;
  restore(bytes: Uint8Array): void;
}
