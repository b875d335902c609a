import { stepsWithTurns, timedSteps } from '../../models/core/steps.js';
import type { Recommender } from '../../models/recommender.js';
import type { Logger } from '../logger.js';
import type { BatchGate } from './batch-gate.js';
import { yieldToEventLoop } from './event-loop.js';
import { packSnapshot, unpackSnapshot, type LearnLedger } from './learn-ledger.js';

/** Where snapshots live (Redis in production, a Map in tests). */
export interface SnapshotStore {
  save(name: string, bytes: Uint8Array): Promise<void>;
  load(name: string): Promise<Uint8Array | null>;
}

/**
 * When a snapshot is due: `everyEvents` committed since the last one, at least `minIntervalMs`
 * after it; after `maxIntervalMs`, any committed event (config/pipeline.ts says why).
 */
export interface SnapshotSchedule {
  readonly minIntervalMs: number;
  readonly everyEvents: number;
  readonly maxIntervalMs: number;
}

/**
 * The model's snapshots for one instance: restored at start, then taken between batches (so
 * the model matches the ledger) and written in the background, never awaited on the commit path.
 * With a gate (run's BatchGate) the snapshot is taken in parts, a turn each, holding the gate so
 * no batch learns between two parts: taken at once it was one 0.2-0.9 s stretch of the loop.
 */
export class ModelSnapshots {
  private last = Date.now();
  /** Events committed since the last snapshot was taken. */
  private events = 0;
  private saving: Promise<void> | undefined;

  constructor(
    private readonly store: SnapshotStore | undefined,
    private readonly name: string,
    private readonly recommender: Recommender,
    private readonly ledger: LearnLedger,
    private readonly log: Pick<Logger, 'info' | 'debug' | 'warn'>,
    private readonly schedule: SnapshotSchedule,
    private readonly gate?: Pick<BatchGate, 'enter' | 'leave'>,
  ) {}

  async restore(): Promise<void> {
    if (!this.store || !this.recommender.restore) return;
    const bytes = await this.store.load(this.name);
    if (!bytes) return;
    this.recommender.restore(unpackSnapshot(bytes, this.ledger));
    this.log.info({ snapshot: this.name, bytes: bytes.byteLength }, 'model restored from snapshot');
  }

  /** Counts `events` newly committed and takes a snapshot when one is due (call between batches). */
  maybeSave(events: number): void {
    this.events += events;
    if (this.events === 0) return;
    const age = Date.now() - this.last;
    const { minIntervalMs, everyEvents, maxIntervalMs } = this.schedule;
    if ((age >= minIntervalMs && this.events >= everyEvents) || age >= maxIntervalMs)
      void this.save();
  }

  /** Serialises the model now and writes it in the background; resolves when written. */
  save(): Promise<void> {
    const store = this.store;
    if (!store || !this.recommender.snapshot) return Promise.resolve();
    if (this.saving) return this.saving;
    this.last = Date.now();
    this.events = 0;
    this.saving = this.serialise()
      .then(async ({ bytes, serialiseMs }) => {
        await store.save(this.name, bytes);
        this.log.info(
          { snapshot: this.name, bytes: bytes.byteLength, serialiseMs },
          'model snapshot saved',
        );
      })
      .catch((err: unknown) => this.log.warn({ err: String(err) }, 'model snapshot not saved'))
      .finally(() => (this.saving = undefined));
    return this.saving;
  }

  /** The ledger and the model as of one point between batches; serialiseMs: the CPU it took. */
  private async serialise(): Promise<{ bytes: Uint8Array; serialiseMs: number }> {
    const rec = this.recommender;
    const gate = this.gate;
    let serialiseMs = 0;
    const timed = <T>(f: () => T): T => {
      const started = performance.now();
      const out = f();
      serialiseMs += performance.now() - started;
      return out;
    };
    if (!gate || !rec.snapshotSteps) {
      const model = timed(() => (rec.snapshot as () => Uint8Array).call(rec));
      const bytes = timed(() => packSnapshot(this.ledger, model));
      return { bytes, serialiseMs: Math.round(serialiseMs) };
    }
    await gate.enter();
    try {
      const steps = timedSteps(this.packedSteps(rec.snapshotSteps()), (ms) => (serialiseMs += ms));
      const bytes = await stepsWithTurns(steps, yieldToEventLoop);
      return { bytes, serialiseMs: Math.round(serialiseMs) };
    } finally {
      gate.leave();
    }
  }

  /**
   * The model's parts, with the ledger packed in the same step as the last one: no turn falls
   * between the model as read and the ledger it is saved with.
   */
  private *packedSteps(
    model: Generator<void, Uint8Array, undefined>,
  ): Generator<void, Uint8Array, undefined> {
    return packSnapshot(this.ledger, yield* model);
  }

  /** The write in flight, if any. */
  settled(): Promise<void> {
    return this.saving ?? Promise.resolve();
  }
}
