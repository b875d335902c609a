/**
 * Restore time of the state changelogs (issue 13 item 4): how long a newly assigned partition
 * set takes to read its compacted changelog to the end (read_committed) and rebuild the push
 * engine's users (`--state push`) or the feature store's user windows (`--state features`)
 * from it, per million keys.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/restore-state.js [--keys 200000]
 *     [--partitions 3] [--templates 2000] [--state push|features]
 *
 * Realistic records: `--templates` users go through a PushEngine (views, carts, clicks over a
 * day of event time, so pending carts, sent pushes, attribution windows, hour-of-week counts
 * and burst windows are filled) and their serialised states are reused round robin for `--keys`
 * distinct user keys, written to a fresh compacted topic of the shared stack. The clock covers
 * readChangelog (kafka/changelog-reader.ts) applying each record as it is read
 * (restoreUser), the work a rebalance or restart does before the partition's first batch. With
 * `--state features` the templates are users' windows (5m/1h/24h panes after a day of views,
 * clicks and carts), encoded by features/window-changelog-codec.ts and restored with
 * restoreWindows, as feature-changelog.ts does. The last stdout line is JSON.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { ClickEvent, EventType } from '../models/event.js';
import { PushEngine } from '../push/engine.js';
import { FeatureStore } from '../features/feature-store.js';
import { decodeUserWindows, encodeUserWindows } from '../features/window-changelog-codec.js';
import { readChangelog } from '../kafka/changelog-reader.js';
import { callback, commonKafkaConfig, rdkafka } from '../kafka/rdkafka.js';
import { ensureTopics } from '../kafka/admin.js';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '200000' },
    partitions: { type: 'string', default: '3' },
    templates: { type: 'string', default: '2000' },
    state: { type: 'string', default: 'push' },
  },
});
const features = values.state === 'features';
const keys = Number(values.keys);
const partitions = Number(values.partitions);
const templates = Number(values.templates);
const cfg = loadConfig(undefined, process.env);
const log = (msg: string): boolean => process.stderr.write(`${msg}\n`);

/** A day of events (every third user an hour, six event types) for `templates` users. */
function templateDay(hour: number, next: () => number): ClickEvent[] {
  const t0 = Date.parse('2026-11-02T08:00:00Z');
  const types: EventType[] = ['view', 'view', 'click', 'add_to_cart', 'view', 'purchase'];
  const events: ClickEvent[] = [];
  for (let u = 0; u < templates; u++) {
    if ((u + hour) % 3 !== 0) continue;
    events.push({
      eventId: `e${next()}`,
      ts: t0 + hour * 3_600_000 + u,
      userId: `t${u}`,
      itemId: `i${(u * 31 + hour) % 500}`,
      type: types[(u * 7 + hour) % types.length] as EventType,
      category: `c${u % 20}`,
    });
  }
  return events;
}

function templateWindows(): Uint8Array[] {
  const store = new FeatureStore({ emitRows: false });
  let id = 0;
  const day: ClickEvent[][] = Array.from({ length: 24 }, (_, h) => templateDay(h, () => id++));
  // An event every third hour per user: several panes in every family, up to a day back.
  for (const events of day) store.ingest(events);
  const out: Uint8Array[] = [];
  for (let u = 0; u < templates; u++) {
    const windows = store.exportWindows('user', `t${u}`);
    if (windows) out.push(encodeUserWindows({ ts: store.maxEventTs, windows }));
  }
  return out;
}

function templateStates(): Uint8Array[] {
  const engine = new PushEngine({ policy: 'static', holdout: { fraction: 0 } });
  const t0 = Date.parse('2026-11-02T08:00:00Z');
  const types: EventType[] = ['view', 'view', 'click', 'add_to_cart', 'view', 'purchase'];
  let id = 0;
  for (let hour = 0; hour < 24; hour++) {
    const events: ClickEvent[] = [];
    for (let u = 0; u < templates; u++) {
      if ((u + hour) % 3 !== 0) continue;
      const type = types[(u * 7 + hour) % types.length] as EventType;
      events.push({
        eventId: `e${id++}`,
        ts: t0 + hour * 3_600_000 + u,
        userId: `t${u}`,
        itemId: `i${(u * 31 + hour) % 500}`,
        type,
        category: `c${u % 20}`,
      });
    }
    engine.process({
      events,
      items: [],
      recommendations: [],
      watermark: t0 + hour * 3_600_000 - 60_000,
    });
  }
  const out: Uint8Array[] = [];
  for (let u = 0; u < templates; u++) {
    const b = engine.snapshotUser(`t${u}`);
    if (b) out.push(b);
  }
  return out;
}

async function main(): Promise<void> {
  const states = features ? templateWindows() : templateStates();
  const meanBytes = states.reduce((s, b) => s + b.length, 0) / states.length;
  const topic = `bench-restore-${Date.now().toString(36)}`;
  await ensureTopics(cfg, [{ name: topic, partitions, config: { 'cleanup.policy': 'compact' } }]);
  const rd = rdkafka();
  const producer = new rd.Producer({
    ...commonKafkaConfig(cfg),
    'linger.ms': 20,
    'compression.type': 'lz4',
    'queue.buffering.max.messages': 1_000_000,
  });
  await callback((cb) => producer.connect({ timeout: 30_000 }, cb));
  const written = Date.now();
  for (let i = 0; i < keys; i++) {
    const bytes = states[i % states.length] as Uint8Array;
    for (;;) {
      try {
        producer.produce(topic, i % partitions, Buffer.from(bytes), `user-${i}`);
        break;
      } catch {
        producer.poll();
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    if (i % 50_000 === 0) producer.poll();
  }
  await callback((cb) => producer.flush(60_000, cb));
  await callback((cb) => producer.disconnect(cb));
  log(
    `wrote ${keys} records (${meanBytes.toFixed(0)} B mean) in ${(Date.now() - written) / 1000} s`,
  );

  const rssBefore = process.memoryUsage().rss;
  const started = Date.now();
  const all = Array.from({ length: partitions }, (_, p) => p);
  // As the job restores (push-changelog.ts, feature-changelog.ts): each record applied as read.
  const engine = new PushEngine({ maxUsers: keys + 1 });
  const store = new FeatureStore({ maxUsers: keys + 1 });
  const { records } = await readChangelog(cfg, topic, all, {
    onRecord: (user, { value }) => {
      if (!value) engine.releaseUsers([user]);
      else if (!features) engine.restoreUser(user, new Uint8Array(value));
      else {
        const rec = decodeUserWindows(new Uint8Array(value));
        store.restoreWindows('user', user, rec.ts, rec.windows);
      }
    },
  });
  const seconds = (Date.now() - started) / 1000;
  const summary = {
    keys,
    partitions,
    records,
    state: features ? 'features' : 'push',
    restoredUsers: features ? store.stats().users : engine.userCount,
    meanRecordBytes: Math.round(meanBytes),
    restoreSeconds: seconds,
    secondsPerMillionKeys: Number(((seconds * 1_000_000) / keys).toFixed(2)),
    rssGrowthMiB: Math.round((process.memoryUsage().rss - rssBefore) / 1_048_576),
    topic,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
