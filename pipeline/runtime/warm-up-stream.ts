import type { Batch, RawMessage } from '../../operators/types.js';

const TYPES = ['view', 'view', 'view', 'view', 'click', 'click', 'add_to_cart', 'purchase'];
const CATEGORIES = ['home', 'garden', 'toys', 'kitchen', 'books', 'fashion', 'sports', 'beauty'];

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
 * A synthetic shop stream in the shapes `run` reads from Kafka (Buffers, keyed by user, spread
 * over partitions, a few catalog records and malformed lines), for the warm-up only: it never
 * reaches a store. Users and items are skewed like a shop's so the hot paths see the same kinds
 * of values (repeat users, popular items, windows closing) as live traffic.
 */
export function* warmUpBatches(o: WarmUpStreamOptions): Generator<Batch<RawMessage>> {
  let state = 0x2545f491;
  const rnd = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const offsets = new Array<number>(o.partitions).fill(0);
  const users = Math.max(10, o.events >> 3);
  const items = Math.max(10, o.events >> 4);
  let seq = 0;
  for (let start = 0; start < o.events; start += o.batchSize) {
    const end = Math.min(o.events, start + o.batchSize);
    const batch: RawMessage[] = [];
    for (let n = start; n < end; n++) {
      const ts = o.startTs + n * 10;
      const user = `warmup-u${Math.floor(rnd() ** 1.5 * users)}`;
      const itemNo = Math.floor(rnd() ** 3 * items);
      const item = `warmup-i${itemNo}`;
      const category = CATEGORIES[itemNo % CATEGORIES.length] as string;
      const price = Math.round(rnd() * 20_000) / 100;
      const r = rnd();
      if (r < 0.02) {
        const value = JSON.stringify({
          item_id: item,
          ts,
          title: `warm-up item ${itemNo}`,
          category,
          price,
          in_stock: r > 0.002,
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
      const partition = itemNo % o.partitions;
      const offset = offsets[partition] ?? 0;
      offsets[partition] = offset + 1;
      const value =
        r < 0.03
          ? `{"event_id":"warmup-bad-${n}",`
          : JSON.stringify({
              event_id: `warmup-${n}`,
              ts,
              user_id: user,
              item_id: item,
              type: TYPES[Math.floor(rnd() * TYPES.length)],
              category,
              price,
              session_id: `${user}-${Math.floor(ts / 1_800_000)}`,
            });
      batch.push({
        topic: o.inputTopic,
        partition,
        offset,
        key: user,
        value: Buffer.from(value),
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
