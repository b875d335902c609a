import type { EntityIndex } from './entity-index.js';
import type { Families } from './families.js';
import { PendingKeys } from './pending-keys.js';
import type { FeatureEntity, FeatureSet } from './types.js';
import type { UserStates } from './user-state.js';

/** The order a take has always read its keys in, so its rows keep their order. */
const ENTITIES: readonly FeatureEntity[] = ['user', 'item', 'category'];

/**
 * FeatureStore's takes of changed windows: the keys touched since the last take began
 * (`pending`) and the rows each take builds from them. A take swaps the pending keys for a
 * fresh set when it begins, so a key touched afterwards belongs to the next take.
 *
 * A take in parts (`parts`) reads the keys it swapped out across its parts. Nothing may move
 * the watermark until its last part (FeatureStore refuses ingest, advanceIdle and flush while
 * it is open): a window of a key not read yet could close unread, and no early read (readsDue)
 * covers the keys of a take. run holds the batch gate for it. Keys that leave the store between
 * parts (erasure, eviction by the catalog or a changelog restore, which do not wait for the
 * gate) are skipped when their turn comes, as they are not in the index any more.
 */
export class FeatureTakes {
  private keys = new PendingKeys();
  private inParts = false;

  constructor(
    private readonly fams: Families,
    private readonly userStates: UserStates,
    private readonly indexOf: (entity: FeatureEntity) => EntityIndex,
    /** The rows' time: the newest event time ingested. */
    private readonly now: () => number,
  ) {}

  /** Keys touched since the last take began: what the next take reads (a new set per take). */
  get pending(): PendingKeys {
    return this.keys;
  }

  /** A take in parts has begun and not read its last part. */
  get open(): boolean {
    return this.inParts;
  }

  /** Every pending key's rows at once. */
  all(): FeatureSet[] {
    const rows: FeatureSet[] = [];
    for (const part of this.read(this.swap(), Infinity)) for (const r of part) rows.push(r);
    return rows;
  }

  /** The pending keys' rows, `keysPerPart` keys a part. One take in parts at a time. */
  *parts(keysPerPart: number): Generator<FeatureSet[], void, undefined> {
    if (this.inParts) throw new Error('FeatureStore: a take in parts is already running');
    const p = this.swap();
    this.inParts = true;
    try {
      yield* this.read(p, keysPerPart);
    } finally {
      this.inParts = false;
    }
  }

  private swap(): PendingKeys {
    const p = this.keys;
    this.keys = new PendingKeys();
    return p;
  }

  /** The rows of `p`'s keys, each key removed from `p` as it is read, `keysPerPart` a part. */
  private *read(p: PendingKeys, keysPerPart: number): Generator<FeatureSet[], void, undefined> {
    const f = this.fams;
    // Nothing ingests until the last part (see the class), so the newest event time holds.
    const ts = this.now();
    let rows: FeatureSet[] = [];
    let keys = 0;
    for (const entity of ENTITIES) {
      const pending = p.of(entity);
      const index = this.indexOf(entity);
      const fams = f.of(entity);
      const isUser = entity === 'user';
      for (const [id, span] of pending) {
        pending.delete(id);
        const slot = index.slotOf(id);
        if (slot === undefined) continue;
        f.changedRows(fams, slot, id, span.min, span.max, ts, rows);
        // the unwindowed values (recency, affinity, price band) are per user only
        if (isUser) this.userStates.pushRows(id, slot, index.lastSeen(slot), ts, rows);
        if (++keys % keysPerPart === 0) {
          yield rows;
          rows = [];
        }
      }
    }
    p.from = Infinity;
    if (rows.length > 0) yield rows;
  }
}
