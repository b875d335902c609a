/**
 * CPU cost per event of each stage that decides how `run` scales out (docs/scaling.md, capacity
 * model), measured in one process on a JSONL clickstream (e.g. bench/shop-stream.ts's output):
 *
 *   node dist/bench/scale-stages.js --input FILE.jsonl [--batch 500] [--partitions 6] [--serve 20000]
 *
 * Stages, each timed with process.cpuUsage over the whole stream:
 *  - parse: validateMessage of the raw line (JSON parse + contract checks);
 *  - learn: the default model learning every event (user and item side), deltas off;
 *  - learn+record: the same with item deltas recorded (what an owner does in `replica` mode);
 *  - take+encode: per batch of --batch events, the deltas split by item partition and encoded;
 *  - decode+apply: another model applying those records (what every other instance does);
 *  - serve: a top-10 for the event's user (the recommendation refresh per event).
 * "follower" = parse + learn: what each instance pays per event of a partition it does not own
 * in `follower` mode; "replica" = decode+apply per source event in `replica` mode.
 */
import { readFileSync } from 'node:fs';
import { decodeItemDeltas, encodeItemDeltas } from '../models/core/item-delta-codec.js';
import type { ClickEvent } from '../models/event.js';
import { HybridRecommender } from '../models/hybrid.js';
import { validateMessage } from '../stream/validate-event.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}

function cpuMs(fn: () => void): number {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
}

function main(): void {
  const input = arg('input', '');
  if (!input) throw new Error('--input FILE.jsonl is required');
  const batch = Number(arg('batch', '500'));
  const partitions = Number(arg('partitions', '6'));
  const serveN = Number(arg('serve', '20000'));
  const lines = readFileSync(input, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const events: ClickEvent[] = [];
  const parse = cpuMs(() => {
    for (const l of lines) {
      const v = validateMessage(l, { maxFutureSkewMs: Number.POSITIVE_INFINITY });
      if (v.ok) events.push(v.event);
    }
  });
  const n = events.length;
  const plain = new HybridRecommender();
  const learn = cpuMs(() => {
    for (const e of events) plain.learn(e);
  });
  const owner = new HybridRecommender();
  owner.recordItemDeltas();
  let record = 0;
  let encode = 0;
  let bytes = 0;
  const encoded: Uint8Array[] = [];
  for (let at = 0; at < n; at += batch) {
    const slice = events.slice(at, at + batch);
    record += cpuMs(() => {
      for (const e of slice) owner.learn(e);
    });
    encode += cpuMs(() => {
      for (const r of owner.takeItemDeltas(partitions)) {
        const b = encodeItemDeltas(r);
        bytes += b.byteLength;
        encoded.push(b);
      }
    });
  }
  const replica = new HybridRecommender();
  replica.recordItemDeltas();
  const apply = cpuMs(() => {
    for (const b of encoded) {
      const r = decodeItemDeltas(b);
      if (r) replica.applyItemDeltas(r);
    }
  });
  const users = events.slice(0, Math.min(serveN, n)).map((e) => e.userId);
  const none = new Set<string>();
  const serve = cpuMs(() => {
    for (const u of users) owner.recommend(u, 10, none);
  });
  const us = (ms: number, per = n): number => Math.round((ms * 1000 * 100) / per) / 100;
  const out = {
    input,
    events: n,
    batch,
    partitions,
    records: encoded.length,
    bytes_per_event: Math.round(bytes / n),
    us_per_event: {
      parse: us(parse, lines.length),
      learn: us(learn),
      learn_record: us(record),
      take_encode: us(encode),
      decode_apply: us(apply),
      serve: us(serve, users.length),
      follower_per_foreign_event: us(parse + learn),
      replica_per_foreign_event: us(apply),
    },
  };
  console.log(JSON.stringify(out));
}

main();
