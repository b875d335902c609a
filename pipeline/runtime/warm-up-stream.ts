import type { Batch, RawMessage } from '../../operators/types.js';
import { CATEGORIES, ShopStream } from '../sim/shop-events.js';

/** One message in this many is a catalog record (the items topic). */
const CATALOG_EVERY = 50;

export interface WarmUpStreamOptions {
  readonly events: number;
  readonly batchSize: number;
  readonly inputTopic: string;
  readonly itemsTopic: string;
  readonly partitions: number;
  /** Event time of the first event; later events follow 10 ms apart. */
  readonly startTs: number;
}

/**
 * The load test's shop stream (pipeline/sim/shop-events.ts) in the shapes `run` reads from
 * Kafka (Buffers, keyed by user, spread over partitions, with a few catalog records and
 * malformed lines), for the warm-up only: it never reaches a store. Skewed users and items give
 * the hot paths the same kinds of values as live traffic: repeat users, popular items, windows
 * closing.
 */
export function* warmUpBatches(o: WarmUpStreamOptions): Generator<Batch<RawMessage>> {
  const items = Math.max(10, o.events >> 4);
  const shop = new ShopStream({
    users: Math.max(10, o.events >> 3),
    items,
    malformed: 0.01,
    runId: 'warmup',
  });
  const offsets = new Array<number>(o.partitions).fill(0);
  let seq = 0;
  for (let start = 0; start < o.events; start += o.batchSize) {
    const end = Math.min(o.events, start + o.batchSize);
    const batch: RawMessage[] = [];
    for (let n = start; n < end; n++) {
      const ts = o.startTs + n * 10;
      if (n % CATALOG_EVERY === CATALOG_EVERY - 1) {
        const itemNo = (n * 7919) % items;
        const item = `i${itemNo}`;
        const value = JSON.stringify({
          item_id: item,
          ts,
          title: `warm-up item ${item}`,
          category: CATEGORIES[itemNo % CATEGORIES.length],
          price: (n % 20_000) / 100,
          in_stock: n % (CATALOG_EVERY * 10) !== CATALOG_EVERY - 1,
        });
        batch.push({
          topic: o.itemsTopic,
          partition: 0,
          offset: n,
          key: item,
          value: Buffer.from(value),
          timestamp: ts,
        });
        continue;
      }
      const m = shop.next(ts);
      const partition = n % o.partitions;
      const offset = offsets[partition] ?? 0;
      offsets[partition] = offset + 1;
      batch.push({
        topic: o.inputTopic,
        partition,
        offset,
        key: m.key,
        value: Buffer.from(m.value),
        timestamp: ts,
      });
    }
    const commits = offsets.map((offset, partition) => ({
      topic: o.inputTopic,
      partition,
      offset,
    }));
    yield { seq: seq++, items: batch, commits };
  }
}
