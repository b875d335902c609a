import type { Registry } from 'prom-client';
import type { ClickEvent } from '../../models/event.js';
import type { ErasedUsers } from '../../privacy/erased-users.js';
import type { LearnLedger } from './learn-ledger.js';

export interface FollowerOptions {
  readonly topic: string;
  /** The job's consumer group; the follower's own group id is derived from it and never commits. */
  readonly groupId: string;
  readonly instanceId: string;
  readonly ledger: LearnLedger;
  /** What the main graph does with an accepted event's model side (recommender.learn). */
  readonly learn: (event: ClickEvent) => void;
  /** As the graph's: events are learned under the users' pseudonyms. */
  readonly userIdHashKey?: string;
  /** What erased users sent before their erasure is not learned (dropErased). */
  readonly erased?: ErasedUsers;
  readonly dedupeCapacity: number;
  readonly registry: Registry;
  /**
   * Read the partitions other instances own (default true). False with the item state replica:
   * then the follower only catches up a partition that moved here (its user side, see learn).
   */
  readonly followOthers?: boolean;
  /**
   * Event time the follower may learn up to (default: no limit). The main pipeline sets it to
   * what it is serving plus the bound, so learning runs ahead of serving by at most that much.
   */
  readonly frontier?: () => number;
  readonly batchMaxMessages?: number;
  readonly pollMs?: number;
  readonly onLog?: (msg: string, fields?: Record<string, unknown>) => void;
}
