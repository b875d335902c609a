import { Observable, type OperatorFunction } from 'rxjs';
import type { ClickEvent } from '../models/event.js';
import type { FeatureStore } from '../features/feature-store.js';
import type { FeatureBatch } from '../features/types.js';

export interface ComputeFeaturesOptions {
  /**
   * On completion, close every window and emit the final rows (default false): the store
   * outlives the stream and keeps serving reads, which a flush would empty of window state.
   * A bounded replay that wants every last window in its sinks turns this on.
   */
  readonly flushOnComplete?: boolean;
}

/**
 * Feeds each batch of (deduplicated) events into `store` and emits exactly one FeatureBatch per
 * input batch: the feature rows of the windows that fired, plus the events some family could
 * no longer count (late side output). One output per input keeps the graph's batches aligned
 * with their offsets. The store is the state, shared with its readers, so two subscriptions
 * would feed the same store: subscribe once.
 */
export function computeFeatures(
  store: FeatureStore,
  options: ComputeFeaturesOptions = {},
): OperatorFunction<readonly ClickEvent[], FeatureBatch> {
  return (source) =>
    new Observable<FeatureBatch>((subscriber) =>
      source.subscribe({
        next(events) {
          let out: FeatureBatch;
          try {
            out = store.ingest(events);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          subscriber.next(out);
        },
        error: (err: unknown) => subscriber.error(err),
        complete() {
          if (options.flushOnComplete) {
            let out: FeatureBatch;
            try {
              out = store.flush();
            } catch (err) {
              subscriber.error(err);
              return;
            }
            subscriber.next(out);
          }
          subscriber.complete();
        },
      }),
    );
}
