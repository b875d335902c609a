/**
 * Windowed-features throughput and memory: file → readInputRecords → validateMessage → batches
 * of 500 → FeatureStore.ingest (the feature graph alone: no dedupe, no recommender, no sinks).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/features.js FILE [--batch 500] [--limit N] [--every 50000]
 *     [--jitter-ms J]
 *
 * The UCI file is in event-time order; `--jitter-ms J` moves each event back by a pseudo-random
 * 0..J ms (fixed seed) so the out-of-order, late-update and late-output paths carry load too.
 *
 * Reports events/s end to end and inside the feature graph only, peak RSS, and the window state
 * size sampled over the stream. The last stdout line is one JSON object; the rest goes to stderr.
 */
import { featureRows } from '../features/types.js';
import { performance } from 'node:perf_hooks';
import { from, map, tap, lastValueFrom, defaultIfEmpty } from 'rxjs';
import type { ClickEvent } from '../models/event.js';
import { validateMessage } from '../stream/validate-event.js';
import { FeatureStore } from '../features/feature-store.js';
import { readInputRecords } from '../pipeline/formats/input-records.js';
import { formatFromFileName } from '../pipeline/formats/read-lines.js';

interface Sample {
  events: number;
  seconds: number;
  eventTime: string;
  openWindows: number;
  userWindows: number;
  sessionWindows: number;
  itemWindows: number;
  categoryWindows: number;
  timers: number;
  users: number;
  items: number;
  rssMb: number;
  heapMb: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const file = process.argv[2];
if (!file || file.startsWith('--')) {
  process.stderr.write(
    'usage: node dist/bench/features.js FILE [--batch 500] [--limit N] [--every 50000]\n',
  );
  process.exit(2);
}
const batchSize = arg('batch', 500);
const limit = arg('limit', Infinity);
const every = arg('every', 50_000);
const jitterMs = arg('jitter-ms', 0);
// xorshift32 with a fixed seed: the same file and J always produce the same disorder.
let rng = 0x2545f491;
const jitter = (): number => {
  rng ^= rng << 13;
  rng ^= rng >>> 17;
  rng ^= rng << 5;
  return ((rng >>> 0) / 2 ** 32) * jitterMs;
};

const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;
const store = new FeatureStore();
let lines = 0;
let valid = 0;
let deadLetters = 0;
let filtered = 0;
let rows = 0;
let late = 0;
let featureMs = 0;
let peakRss = 0;
let nextSample = every;
const samples: Sample[] = [];
const started = performance.now();

function sample(): void {
  const s = store.stats();
  const mem = process.memoryUsage();
  peakRss = Math.max(peakRss, mem.rss);
  let userWindows = 0;
  let itemWindows = 0;
  let categoryWindows = 0;
  let timers = 0;
  for (const [name, f] of Object.entries(s.families)) {
    timers += f.timers;
    if (name.startsWith('user_')) userWindows += f.openWindows;
    else if (name.startsWith('item_')) itemWindows += f.openWindows;
    else if (name.startsWith('category_')) categoryWindows += f.openWindows;
  }
  samples.push({
    events: valid,
    seconds: Math.round((performance.now() - started) / 10) / 100,
    eventTime: Number.isFinite(s.maxEventTs)
      ? new Date(s.maxEventTs).toISOString().slice(0, 16)
      : '-',
    openWindows: s.openWindows,
    userWindows,
    sessionWindows: s.families.session.openWindows,
    itemWindows,
    categoryWindows,
    timers,
    users: s.users,
    items: s.items,
    rssMb: mb(mem.rss),
    heapMb: mb(mem.heapUsed),
  });
}

async function* batches(): AsyncGenerator<readonly ClickEvent[]> {
  let batch: ClickEvent[] = [];
  for await (const rec of readInputRecords(file, formatFromFileName(file))) {
    if (rec.kind === 'catalog') continue; // features come from events only
    if (lines >= limit) break;
    lines++;
    if (rec.kind === 'filtered') {
      filtered++;
      continue;
    }
    const v = validateMessage(rec.value);
    if (!v.ok) {
      deadLetters++;
      continue;
    }
    valid++;
    batch.push(jitterMs > 0 ? { ...v.event, ts: v.event.ts - Math.floor(jitter()) } : v.event);
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

let t0 = 0;
await lastValueFrom(
  from(batches()).pipe(
    tap(() => (t0 = performance.now())),
    map((events) => store.ingest(events)),
    tap((out) => {
      featureMs += performance.now() - t0;
      rows += featureRows(out.sets).length;
      late += out.late.length;
      if (valid >= nextSample) {
        sample();
        nextSample += every;
      }
    }),
    defaultIfEmpty(null),
  ),
);
sample();
const seconds = (performance.now() - started) / 1000;
const f0 = performance.now();
const flushed = store.flush();
const flushMs = performance.now() - f0;
rows += featureRows(flushed.sets).length;
const after = store.stats();
const maxRssKb = process.resourceUsage().maxRSS;

const result = {
  file,
  lines,
  valid,
  dead_letter: deadLetters,
  filtered,
  batch: batchSize,
  jitter_ms: jitterMs,
  seconds: Math.round(seconds * 100) / 100,
  events_per_s: Math.round(valid / seconds),
  feature_seconds: Math.round(featureMs) / 1000,
  feature_events_per_s: Math.round(valid / (featureMs / 1000)),
  rows,
  rows_per_event: Math.round((rows / Math.max(1, valid)) * 10) / 10,
  late_side_outputs: late,
  late_by_family: Object.fromEntries(
    Object.entries(after.families)
      .filter(([, f]) => f.lateEvents > 0)
      .map(([name, f]) => [name, f.lateEvents]),
  ),
  flush_ms: Math.round(flushMs),
  open_windows_after_flush: after.openWindows,
  peak_open_windows: Math.max(...samples.map((s) => s.openWindows)),
  peak_rss_mb: Math.round(Math.max(peakRss, maxRssKb * 1024) / 1e5) / 10,
  node: process.version,
};

const cols = Object.keys(samples[0] ?? {}) as (keyof Sample)[];
process.stderr.write(`| ${cols.join(' | ')} |\n|${cols.map(() => ' ---').join(' |')} |\n`);
for (const s of samples) process.stderr.write(`| ${cols.map((c) => s[c]).join(' | ')} |\n`);
process.stdout.write(`${JSON.stringify(result)}\n`);
