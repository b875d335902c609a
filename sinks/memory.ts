import { DEFAULT_MAX_USERS, LruMap } from '../models/core/lru-map.js';
import { DistinctIds } from './distinct-ids.js';
import type { GraphBatch, ServedRecommendation } from '../records/index.js';

/**
 * replay's sink: keeps what `run` would have written, in memory, for the summary and tests.
 * Bounded: the full lists of only the `keepLists` most recently served users (examples, tests),
 * and the counts of distinct served and pushed users as 64-bit id hashes, at most `maxUsers` of
 * each (config `limits.users`; the counts stop there, as a capped map's size would).
 */
export class MemorySink {
  constructor(maxUsers = DEFAULT_MAX_USERS, keepLists = 1_000) {
    this.latestRecommendations = new LruMap(Math.min(keepLists, maxUsers));
    this.servedUsers = new DistinctIds(maxUsers);
    this.pushedUsers = new DistinctIds(maxUsers);
  }

  messages = 0;
  valid = 0;
  duplicates = 0;
  deadLetters = 0;
  readonly deadLetterReasons = new Map<string, number>();
  /** The last list of each of the most recently served users. */
  readonly latestRecommendations: LruMap<string, ServedRecommendation>;
  /** Distinct users served (ids only). */
  readonly servedUsers: DistinctIds;
  recommendationsServed = 0;
  featureRows = 0;
  lateFeatureEvents = 0;
  /** Push decisions per trigger and outcome (replay has no Redis claim: these are final). */
  readonly pushes = new Map<string, { sent: number; deferred: number; suppressed: number }>();
  /** Distinct users that were sent at least one push. */
  readonly pushedUsers: DistinctIds;
  /** Event-time span of the accepted events, for per-day rates. */
  firstEventTs = Infinity;
  lastEventTs = -Infinity;

  write(batch: GraphBatch): void {
    this.messages += batch.messages;
    this.valid += batch.events.length;
    this.duplicates += batch.duplicates;
    this.deadLetters += batch.deadLetters.length;
    for (const d of batch.deadLetters) {
      const code = d.reason.split(':', 1)[0] ?? d.reason;
      this.deadLetterReasons.set(code, (this.deadLetterReasons.get(code) ?? 0) + 1);
    }
    for (const r of batch.recommendations) {
      this.latestRecommendations.set(r.userId, r);
      this.servedUsers.add(r.userId);
    }
    this.recommendationsServed += batch.recommendations.length;
    this.featureRows += batch.features.length;
    this.lateFeatureEvents += batch.lateFeatureEvents;
    for (const { event } of batch.events) {
      if (event.ts < this.firstEventTs) this.firstEventTs = event.ts;
      if (event.ts > this.lastEventTs) this.lastEventTs = event.ts;
    }
    for (const d of batch.pushes ?? []) {
      let c = this.pushes.get(d.trigger);
      if (!c) this.pushes.set(d.trigger, (c = { sent: 0, deferred: 0, suppressed: 0 }));
      c[d.decision]++;
      if (d.decision === 'sent') this.pushedUsers.add(d.userId);
    }
  }
}
