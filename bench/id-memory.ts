/**
 * Memory per distinct id (issue 12): a stream that brings 200,000 new user ids and 50,000 new
 * item ids through the whole graph (validation, dedupe, features, the default model, serving
 * policy, push decisions, replay's in-memory sink), in process like `replay`.
 *
 *   npx tsc -p tsconfig.json && node --expose-gc dist/bench/id-memory.js [--users 200000]
 *     [--items 50000] [--limit-users N] [--limit-items N] [--no-push] [--every 25000]
 *     [--snapshot FILE.heapsnapshot]
 *
 * Each user sends two events (view, then click / cart / purchase); every tenth item gets a
 * catalog record with a title. Memory is read after a forced GC at the start and every `--every`
 * users; the figure is (RSS at the end − RSS before the first event) / (distinct users + items),
 * so code warm-up and caches count against it too. `--limit-users/--limit-items` set config
 * `limits` below the stream's ids, to show where the caps hold memory flat.
 *
 * `--component features|push|model|history|evaluator|dedupe|sink|catalog` feeds the same events
 * (already parsed) to that one stateful part alone and reports its heap per id: the breakdown.
 * The last stdout line is one JSON object; progress goes to stderr. Run it as the image runs the
 * job, with `MALLOC_MMAP_THRESHOLD_=131072` in the environment and `--max-semi-space-size=64`
 * (Dockerfile), and without.
 */
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { defaultIfEmpty, from, lastValueFrom, tap } from 'rxjs';
import { configSchema } from '../config/schema.js';
import { BoundedIdSet } from '../stream/bounded-id-set.js';
import type { ClickEvent } from '../models/event.js';
import { PrequentialEvaluator } from '../models/prequential.js';
import { CatalogState } from '../models/ranking/policy.js';
import { validateMessage } from '../stream/validate-event.js';
import { FeatureStore } from '../features/feature-store.js';
import { featureLimits } from '../features/config.js';
import { PushEngine } from '../push/engine.js';
import { featureStoreBaseline } from '../push/burst-baseline.js';
import { PurchaseHistory } from '../models/purchase-history.js';
import type { ModelContext } from '../models/core/context.js';
import { createRecommender } from '../models/registry.js';
import type { Batch, RawMessage } from '../operators/types.js';
import { recpipeGraph } from '../pipeline/graph.js';
import { MemorySink } from '../sinks/memory.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '200000' },
    items: { type: 'string', default: '50000' },
    'limit-users': { type: 'string' },
    'limit-items': { type: 'string' },
    'no-push': { type: 'boolean', default: false },
    model: { type: 'string', default: 'default' },
    component: { type: 'string' },
    every: { type: 'string', default: '25000' },
    /** Writes a V8 heap snapshot to this file at the end (what each id really costs). */
    snapshot: { type: 'string' },
  },
});
const USERS = Number(values.users);
const ITEMS = Number(values.items);
const EVERY = Number(values.every);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const defaults = configSchema.parse({}).limits;
const limits = {
  ...defaults,
  ...(values['limit-users'] && { users: Number(values['limit-users']) }),
  ...(values['limit-items'] && { items: Number(values['limit-items']) }),
};
const ITEMS_TOPIC = 'bench-items';
const WORDS = ['red', 'blue', 'mug', 'lamp', 'chair', 'vintage', 'large', 'set', 'glass', 'wood'];
const TYPES = ['click', 'add_to_cart', 'purchase', 'view'] as const;
// event time: the last hours before now, one event per 20 ms, never ahead of the clock
const T0 = Date.now() - (2 * USERS * 20 + 60_000);

/** Batches of 500 raw messages, shaped like Kafka's (what `run` and `replay` feed the graph). */
function* batches(): Generator<Batch<RawMessage>> {
  let items: RawMessage[] = [];
  let seq = 0;
  let offset = 0;
  const push = (topic: string, value: string): void => {
    items.push({ topic, partition: 0, offset: offset++, value });
  };
  for (let u = 0; u < USERS; u++) {
    for (let k = 0; k < 2; k++) {
      const n = 2 * u + k;
      const item = (n * 7919) % ITEMS;
      if (n < ITEMS && item % 10 === 0) {
        const title = `${WORDS[item % 10]} ${WORDS[(item >> 3) % 10]} ${item}`;
        push(ITEMS_TOPIC, JSON.stringify({ item_id: `item-${item}`, ts: T0 + n * 20, title }));
      }
      push(
        'bench-clickstream',
        JSON.stringify({
          event_id: `e${n}`,
          ts: T0 + n * 20,
          user_id: `user-${u}`,
          item_id: `item-${item}`,
          type: k === 0 ? 'view' : TYPES[u % TYPES.length],
          ...(u % 3 === 0 && { category: `cat-${item % 40}` }),
          price: (item % 500) / 10 + 1,
        }),
      );
      if (items.length >= 500) {
        yield { seq: seq++, items, commits: [] };
        items = [];
      }
    }
  }
  if (items.length > 0) yield { seq: seq++, items, commits: [] };
}

interface Sample {
  users: number;
  rss_mb: number;
  heap_mb: number;
  /** Typed arrays' memory, outside the JS heap (feature panes, model factors, push hours). */
  array_buffers_mb: number;
  /**
   * Memory V8 has committed for its heap (used or not): the young generation's semi-spaces
   * (up to 2 x --max-semi-space-size) are committed once grown and count in RSS, not in heapUsed.
   */
  heap_committed_mb: number;
  new_space_committed_mb: number;
}
const mb = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
const measure = (users: number): Sample => {
  gc();
  gc();
  const m = process.memoryUsage();
  return {
    users,
    rss_mb: mb(m.rss),
    heap_mb: mb(m.heapUsed),
    array_buffers_mb: mb(m.arrayBuffers),
    heap_committed_mb: mb(getHeapStatistics().total_physical_size),
    new_space_committed_mb: mb(
      getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size ?? 0,
    ),
  };
};

/** The stream's events as the graph sees them after parsing, for --component. */
function* parsedEvents(): Generator<ClickEvent> {
  for (const b of batches())
    for (const m of b.items) {
      if (m.topic !== 'bench-clickstream') continue;
      const v = validateMessage(m.value);
      if (v.ok) yield v.event;
    }
}

async function component(name: string): Promise<void> {
  const start = measure(0);
  let keep: unknown;
  const chunks = function* (): Generator<ClickEvent[]> {
    let chunk: ClickEvent[] = [];
    for (const e of parsedEvents()) {
      chunk.push(e);
      if (chunk.length === 500) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield chunk;
  };
  const started = performance.now();
  if (name === 'features') {
    const f = new FeatureStore({ emitRows: false, ...featureLimits(limits) });
    for (const c of chunks()) f.ingest(c);
    keep = f;
  } else if (name === 'push') {
    const p = new PushEngine({});
    for (const c of chunks())
      p.process({
        events: c,
        items: [],
        recommendations: c.map((e) => ({
          userId: e.userId,
          eventTs: e.ts,
          items: [{ itemId: e.itemId, score: 2, reason: 'r' }],
        })),
        watermark: (c[c.length - 1] as ClickEvent).ts - 10_000,
      });
    keep = p;
  } else if (name === 'model') {
    const r = createRecommender(values.model, {}, limits);
    for (const e of parsedEvents()) r.learn(e);
    keep = r;
  } else if (name === 'history') {
    const h = new PurchaseHistory({ users: limits.users, perUser: limits.purchasesPerUser });
    for (const e of parsedEvents()) h.record(e);
    keep = h;
  } else if (name === 'evaluator') {
    const ev = new PrequentialEvaluator(10, { maxUsers: limits.users });
    const rec = createRecommender('popular');
    for (const e of parsedEvents()) ev.step(e, rec);
    keep = ev;
  } else if (name === 'dedupe') {
    const d = new BoundedIdSet(1_000_000);
    for (const e of parsedEvents()) d.add(e.eventId);
    keep = d;
  } else if (name === 'sink') {
    const s = new MemorySink(limits.users);
    const items = Array.from({ length: 20 }, (_, j) => ({
      itemId: `item-${j}`,
      score: j,
      reason: 'r',
    }));
    for (const c of chunks())
      s.write({
        seq: 0,
        commits: [],
        messages: c.length,
        events: [],
        items: [],
        duplicates: 0,
        deadLetters: [],
        purchases: new Map(),
        features: [],
        lateFeatureEvents: 0,
        watermark: 0,
        recommendations: c.map((e) => ({
          userId: e.userId,
          items,
          modelVersion: 'v',
          eventTs: e.ts,
          updatedAt: e.ts,
        })),
      });
    keep = s;
  } else if (name === 'catalog') {
    const c = new CatalogState(limits.items);
    for (const e of parsedEvents())
      c.observeItem({
        itemId: e.itemId,
        ts: e.ts,
        category: `cat-${e.itemId.length}`,
        inStock: false,
      });
    keep = c;
  } else throw new Error(`unknown --component ${name}`);
  const end = measure(USERS);
  if (values.snapshot) writeHeapSnapshot(values.snapshot);
  process.stdout.write(
    `${JSON.stringify({
      component: name,
      users: USERS,
      items: ITEMS,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      heap_bytes_per_id: Math.round(((end.heap_mb - start.heap_mb) * 2 ** 20) / (USERS + ITEMS)),
      array_buffer_bytes_per_id: Math.round(
        ((end.array_buffers_mb - start.array_buffers_mb) * 2 ** 20) / (USERS + ITEMS),
      ),
      kept: keep !== undefined,
    })}\n`,
  );
}

async function main(): Promise<void> {
  const recommender = createRecommender(values.model, {}, limits) as ReturnType<
    typeof createRecommender
  > & { ctx: ModelContext };
  const history = new PurchaseHistory({ users: limits.users, perUser: limits.purchasesPerUser });
  const features = new FeatureStore({ emitRows: false, ...featureLimits(limits) });
  const push = values['no-push'] ? undefined : new PushEngine({}, featureStoreBaseline(features));
  const sink = new MemorySink(limits.users);
  const samples: Sample[] = [measure(0)];
  const started = performance.now();
  let usersDone = 0;
  let nextSample = EVERY;
  await lastValueFrom(
    from(batches()).pipe(
      recpipeGraph({
        recommender,
        history,
        features,
        topK: 20,
        dedupeCapacity: 1_000_000,
        itemsTopic: ITEMS_TOPIC,
        modelVersion: 'bench',
        idlePartitionMs: 0,
        maxCatalogItems: limits.items,
        ...(push && { push }),
      }),
      tap((b) => {
        sink.write(b);
        for (const s of b.events) {
          const u = Number(s.event.userId.slice(5)) + 1;
          if (u > usersDone) usersDone = u;
        }
        if (usersDone >= nextSample) {
          samples.push(measure(usersDone));
          const last = samples[samples.length - 1] as Sample;
          process.stderr.write(
            `[id-memory] ${usersDone} users: RSS ${last.rss_mb} MB, heap ${last.heap_mb} MB\n`,
          );
          nextSample += EVERY;
        }
      }),
      defaultIfEmpty(undefined),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const end = measure(usersDone);
  if (values.snapshot) writeHeapSnapshot(values.snapshot);
  if ((samples[samples.length - 1] as Sample).users !== usersDone) samples.push(end);
  const start = samples[0] as Sample;
  const ids = USERS + ITEMS;
  const perId = (a: number, b: number): number => Math.round(((b - a) * 2 ** 20) / ids);
  // The tail of the run: with caps below the stream, growth there shows whether memory is flat.
  const mid = samples[Math.floor(samples.length / 2)] as Sample;
  const tailUsers = end.users - mid.users;
  process.stdout.write(
    `${JSON.stringify({
      users: USERS,
      items: ITEMS,
      events: 2 * USERS,
      limits: { users: limits.users, items: limits.items },
      push: push !== undefined,
      // glibc's setting (the image sets it): freed typed-array copies stay in RSS without it
      malloc_mmap_threshold: process.env.MALLOC_MMAP_THRESHOLD_ ?? null,
      seconds: Math.round(seconds * 10) / 10,
      rss_start_mb: start.rss_mb,
      rss_end_mb: end.rss_mb,
      heap_start_mb: start.heap_mb,
      heap_end_mb: end.heap_mb,
      heap_committed_end_mb: end.heap_committed_mb,
      new_space_committed_end_mb: end.new_space_committed_mb,
      rss_bytes_per_id: perId(start.rss_mb, end.rss_mb),
      // The same without the young generation's growth: its semi-spaces are committed early in
      // the run (about 125 MB with --max-semi-space-size=64, as the image runs) and do not grow
      // with ids, so on this run they add a fixed ~500 B to every id of rss_bytes_per_id.
      rss_bytes_per_id_less_new_space: perId(
        start.rss_mb - start.new_space_committed_mb,
        end.rss_mb - end.new_space_committed_mb,
      ),
      heap_bytes_per_id: perId(start.heap_mb, end.heap_mb),
      array_buffer_bytes_per_id: perId(start.array_buffers_mb, end.array_buffers_mb),
      tail_rss_bytes_per_user:
        tailUsers > 0 ? Math.round(((end.rss_mb - mid.rss_mb) * 2 ** 20) / tailUsers) : 0,
      tail_heap_bytes_per_user:
        tailUsers > 0 ? Math.round(((end.heap_mb - mid.heap_mb) * 2 ** 20) / tailUsers) : 0,
      model_users: recommender.ctx.users.size,
      model_users_recycled: recommender.ctx.users.recycled,
      model_items: recommender.ctx.items.size,
      model_items_refused: recommender.ctx.items.refused,
      history_users: history.users,
      samples,
    })}\n`,
  );
}

await (values.component ? component(values.component) : main());
