import type { OperatorFunction } from 'rxjs';
import type { ClickEvent } from '../models/event.js';
import type { FeatureStore } from '../models/features/feature-store.js';
import type { PushEngine } from '../models/push/engine.js';
import type { PurchaseHistory } from '../models/purchase-history.js';
import type { Recommender } from '../models/recommender.js';
import { decidePushes } from '../operators/decide-pushes.js';
import { dedupeEvents } from '../operators/dedupe-events.js';
import { learnAndRecommend } from '../operators/learn-and-recommend.js';
import { parseMessages } from '../operators/parse-messages.js';
import { updateFeatures } from '../operators/update-features.js';
import type { Batch, GraphBatch, RawMessage } from '../operators/types.js';

export interface GraphOptions {
  readonly recommender: Recommender;
  readonly history: PurchaseHistory;
  readonly features: FeatureStore;
  readonly topK: number;
  readonly dedupeCapacity: number;
  /** Messages of this topic are catalog item events, not clickstream events. */
  readonly itemsTopic?: string;
  readonly modelVersion: string;
  readonly learn?: (event: ClickEvent) => void;
  /** Push decisioning (docs/push.md); without it batches carry no push decisions. */
  readonly push?: PushEngine;
}

/**
 * The one operator graph both runtimes drive: `replay` feeds it file batches and drains it into
 * memory, `run` feeds it Kafka batches and drains it into Redis, ClickHouse and Kafka.
 */
export function recpipeGraph(opts: GraphOptions): OperatorFunction<Batch<RawMessage>, GraphBatch> {
  return (source) =>
    source.pipe(
      parseMessages(Date.now, opts.itemsTopic),
      dedupeEvents(opts.dedupeCapacity),
      updateFeatures(opts.features),
      learnAndRecommend({
        recommender: opts.recommender,
        history: opts.history,
        topK: opts.topK,
        modelVersion: opts.modelVersion,
        ...(opts.learn && { learn: opts.learn }),
      }),
      opts.push ? decidePushes(opts.push) : (b) => b,
    );
}
