import type { ClickEvent, ScoredItem } from './event.js';

/**
 * Every recommender learns online, one event at a time, and answers top-K on demand.
 * No RxJS and no I/O here: the runtimes own time, batching and persistence.
 */
export interface Recommender {
  readonly name: string;
  learn(event: ClickEvent): void;
  /** Best first; never returns an item in `exclude`; at most `k` items. */
  recommend(userId: string, k: number, exclude: ReadonlySet<string>): ScoredItem[];
}
