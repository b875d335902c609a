import type { Recommender } from '../../models/recommender.js';
import type { Logger } from '../logger.js';
import { packSnapshot, unpackSnapshot, type LearnLedger } from './learn-ledger.js';

/** Where snapshots live (Redis in production, a Map in tests). */
export interface SnapshotStore {
  save(name: string, bytes: Uint8Array): Promise<void>;
  load(name: string): Promise<Uint8Array | null>;
}

/**
 * The model's snapshots for one instance: restored at start, then taken between batches (so
 * the model matches the ledger) and written in the background, never awaited on the commit path.
 */
export class ModelSnapshots {
  private last = Date.now();
  private saving: Promise<void> | undefined;

  constructor(
    private readonly store: SnapshotStore | undefined,
    private readonly name: string,
    private readonly recommender: Recommender,
    private readonly ledger: LearnLedger,
    private readonly log: Pick<Logger, 'info' | 'debug' | 'warn'>,
    private readonly intervalMs: number,
  ) {}

  async restore(): Promise<void> {
    if (!this.store || !this.recommender.restore) return;
    const bytes = await this.store.load(this.name);
    if (!bytes) return;
    this.recommender.restore(unpackSnapshot(bytes, this.ledger));
    this.log.info({ snapshot: this.name, bytes: bytes.byteLength }, 'model restored from snapshot');
  }

  /** Takes a snapshot when the interval has passed (call between batches). */
  maybeSave(): void {
    if (Date.now() - this.last >= this.intervalMs) void this.save();
  }

  /** Serialises the model now and writes it in the background; resolves when written. */
  save(): Promise<void> {
    const snapshot = this.recommender.snapshot?.bind(this.recommender);
    if (!this.store || !snapshot) return Promise.resolve();
    if (this.saving) return this.saving;
    this.last = Date.now();
    const started = performance.now();
    const bytes = packSnapshot(this.ledger, snapshot());
    const serialiseMs = Math.round(performance.now() - started);
    this.saving = this.store
      .save(this.name, bytes)
      .then(() =>
        this.log.info(
          { snapshot: this.name, bytes: bytes.byteLength, serialiseMs },
          'model snapshot saved',
        ),
      )
      .catch((err: unknown) => this.log.warn({ err: String(err) }, 'model snapshot not saved'))
      .finally(() => (this.saving = undefined));
    return this.saving;
  }

  /** The write in flight, if any. */
  settled(): Promise<void> {
    return this.saving ?? Promise.resolve();
  }
}
