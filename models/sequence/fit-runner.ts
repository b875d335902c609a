/**
 * Runs GRU fits off the main thread (a worker_threads Worker, fit-worker.ts) and hands the
 * result back synchronously when the caller asks for it. A replay stays deterministic and
 * prequential because the caller decides, by event count, when a fit starts (on a snapshot of
 * events already tested) and when its weights are applied (wait() blocks until the worker is
 * done): timing changes how long the main thread waits, never what it serves.
 *
 * Where the compiled worker script is missing (the unit tests run the TypeScript sources), the
 * fit runs in-process inside start(); it computes the same weights, only without the overlap.
 * Bounded: at most one job in flight; its input and result are released on wait().
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  MessageChannel,
  Worker,
  receiveMessageOnPort,
  type MessagePort,
} from 'node:worker_threads';
import { loadTfSync } from '../ranking/tf.js';
import type { SequenceModel } from './gru-model.js';
import { fitSequenceModel, type SequenceFitOptions, type SequenceFitResult } from './gru-train.js';

export interface FitJob {
  readonly sessions: Int32Array[];
  readonly vocab: string[];
  readonly opts: SequenceFitOptions;
  readonly init: SequenceModel | undefined;
}

export type FitReply = { ok: true; fit: SequenceFitResult } | { ok: false; error: string };

const WORKER_SCRIPT = new URL('./fit-worker.js', import.meta.url);

export class FitRunner {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private signal: Int32Array | undefined;
  private inFlight = false;
  private done: SequenceFitResult | undefined;
  /** Milliseconds the main thread spent blocked in wait() (the fits the overlap did not hide). */
  waitedMs = 0;

  /** @param useWorker false: always fit in-process (no thread is started). */
  constructor(private readonly useWorker: boolean) {}

  get pending(): boolean {
    return this.inFlight || this.done !== undefined;
  }

  /** Starts a fit; at most one may be pending (wait() for it first). */
  start(job: FitJob): void {
    if (this.pending) throw new Error('FitRunner: a fit is already pending');
    const w = this.ensureWorker();
    if (w === undefined) {
      const started = performance.now();
      this.done = fitSequenceModel(loadTfSync().tf, job.sessions, job.vocab, job.opts, job.init);
      this.waitedMs += performance.now() - started;
      return;
    }
    Atomics.store(this.signal as Int32Array, 0, 0);
    this.inFlight = true;
    w.postMessage(job);
  }

  /** The pending fit's result, blocking until the worker posts it; undefined if none pending. */
  wait(): SequenceFitResult | undefined {
    const d = this.settle();
    this.done = undefined;
    return d;
  }

  /** The pending fit's result (waiting for it), kept pending: what a snapshot stores. */
  settle(): SequenceFitResult | undefined {
    if (this.inFlight) this.done = this.receive();
    return this.done;
  }

  /** Makes `fit` the pending result (a restored snapshot's); undefined drops any pending one. */
  hold(fit: SequenceFitResult | undefined): void {
    if (this.inFlight) this.receive();
    this.done = fit;
  }

  private receive(): SequenceFitResult {
    const started = performance.now();
    const port = this.port as MessagePort;
    for (;;) {
      const got = receiveMessageOnPort(port);
      if (got !== undefined) {
        this.inFlight = false;
        this.waitedMs += performance.now() - started;
        const reply = got.message as FitReply;
        if (!reply.ok) throw new Error(`sequence fit worker: ${reply.error}`);
        return reply.fit;
      }
      // the worker posts before it raises the flag; a spurious wake-up just polls again
      Atomics.wait(this.signal as Int32Array, 0, 0, 1_000);
    }
  }

  /** Stops the thread (a later start() begins a new one). */
  close(): void {
    void this.worker?.terminate();
    this.port?.close();
    this.worker = undefined;
    this.port = undefined;
    this.inFlight = false;
    this.done = undefined;
  }

  private ensureWorker(): Worker | undefined {
    if (this.worker) return this.worker;
    if (!this.useWorker || !existsSync(fileURLToPath(WORKER_SCRIPT))) return undefined;
    const flag = new SharedArrayBuffer(4);
    const { port1, port2 } = new MessageChannel();
    const w = new Worker(WORKER_SCRIPT, {
      workerData: { port: port2, flag },
      transferList: [port2],
    });
    // the process must not stay alive for an idle fitter
    w.unref();
    port1.unref();
    this.worker = w;
    this.port = port1;
    this.signal = new Int32Array(flag);
    return w;
  }
}
