import { Subject, identity, map, tap, type OperatorFunction } from 'rxjs';
import type { ClickEvent } from '../../models/event.js';
import { dedupeEvents } from '../../operators/dedupe-events.js';
import { dropErased } from '../../operators/drop-erased.js';
import { hashUserIds } from '../../operators/hash-user-ids.js';
import { parseMessages } from '../../operators/parse-messages.js';
import type { Batch, GraphBatch, RawMessage, SourcedEvent } from '../../operators/types.js';
import type { ErasedUsers } from '../../privacy/erased-users.js';

export interface FollowerPrefixOptions {
  /** The serving side's rule (CONTRACT §5): what it dead-letters, the follower must not learn. */
  readonly maxFutureSkewMs?: number;
  readonly userIdHashKey?: string;
  readonly dedupeCapacity: number;
  readonly erased?: ErasedUsers;
  /** The model side of learnAndRecommend: the recommender (or the item state replica) learns. */
  readonly learn: (event: ClickEvent) => void;
}

/**
 * The part of `run`'s graph the follower pipes (`recpipe describe follower`): run's ingest
 * operators in run's order (parseMessages, hashUserIds?, dedupeEvents), then the model side of
 * learnAndRecommend behind dropErased?, the same operator instances a record meets in run.
 *
 * The follower cuts the ingest in two: `parse` when a message arrives, `learn` once it may be
 * learned (within the frontier, its offset claimed in the learn ledger). Dedupe must come after
 * that point: an event held at the frontier and then handed over with its partition is
 * refetched later, and must not have been marked seen meanwhile.
 *
 * The operators are driven synchronously (each is a `map`): one batch in, one batch out.
 */
export class FollowerPrefix {
  private readonly parsed: (messages: Batch<RawMessage>) => GraphBatch;
  private readonly learned: (batch: GraphBatch) => GraphBatch;
  private deduped = 0;

  constructor(o: FollowerPrefixOptions) {
    const clock = o.maxFutureSkewMs !== undefined ? { maxFutureSkewMs: o.maxFutureSkewMs } : {};
    this.parsed = drive((source) =>
      source.pipe(
        parseMessages(Date.now, undefined, clock),
        o.userIdHashKey ? hashUserIds(o.userIdHashKey) : identity,
      ),
    );
    const learn = o.learn;
    this.learned = drive((source) =>
      source.pipe(
        dedupeEvents(o.dedupeCapacity),
        tap((b) => (this.deduped += b.events.length)),
        o.erased ? dropErased(o.erased) : identity,
        map((b) => {
          for (const e of b.events) learn(e.event);
          return b;
        }),
      ),
    );
  }

  /** Messages of the input topic to events (pseudonymised) and dead letters, in message order. */
  parse(messages: readonly RawMessage[]): GraphBatch {
    return this.parsed({ seq: 0, items: messages, commits: [] });
  }

  /** Learns the events not seen before; returns how many were new (erased ones included). */
  learn(events: readonly SourcedEvent[]): number {
    if (events.length === 0) return 0;
    const before = this.deduped;
    this.learned({ ...EMPTY, events });
    return this.deduped - before;
  }
}

const EMPTY: GraphBatch = {
  seq: 0,
  commits: [],
  messages: 0,
  events: [],
  items: [],
  duplicates: 0,
  deadLetters: [],
  recommendations: [],
  purchases: new Map(),
  features: [],
  lateFeatureEvents: 0,
  watermark: Number.NEGATIVE_INFINITY,
};

/** A synchronous operator chain as a function: subscribed once, so its state (dedupe) persists. */
function drive<I, O>(op: OperatorFunction<I, O>): (input: I) => O {
  const input = new Subject<I>();
  let out: { value: O } | undefined;
  input.pipe(op).subscribe((value) => (out = { value }));
  return (x) => {
    out = undefined;
    input.next(x);
    // TypeScript cannot see that next() assigned `out` through the subscriber.
    const got = out as { value: O } | undefined;
    if (got === undefined) throw new Error('follower prefix: an operator did not emit at once');
    return got.value;
  };
}
