/**
 * Worker-thread entry of FitRunner (fit-runner.ts): fits the GRU on the sessions it is sent and
 * posts the weights back on the port it was given, then raises the shared flag so a main thread
 * blocked in FitRunner.wait() wakes. One job at a time; each job is self-contained (sessions,
 * vocabulary, options, warm-start model), so the result is the same as an in-process fit.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { loadTfSync } from '../ranking/tf.js';
import { fitSequenceModel } from './gru-train.js';
import type { FitJob, FitReply } from './fit-runner.js';

const { port, flag } = workerData as { port: MessagePort; flag: SharedArrayBuffer };
const signal = new Int32Array(flag);

parentPort?.on('message', (job: FitJob) => {
  let reply: FitReply;
  try {
    const { tf } = loadTfSync();
    const fit = fitSequenceModel(tf, job.sessions, job.vocab, job.opts, job.init);
    const m = fit.model;
    reply = { ok: true, fit };
    port.postMessage(reply, [m.emb.buffer, m.bias.buffer, m.wx.buffer, m.wh.buffer]);
  } catch (err) {
    reply = { ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    port.postMessage(reply);
  }
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
