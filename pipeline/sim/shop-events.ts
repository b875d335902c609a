/**
 * The synthetic shop-like clickstream the load test produces, the graph benchmarks replay and
 * `run`'s warm-up passes through its graph (pipeline/runtime/warm-up-stream.ts):
 * users drawn with a u^1.5 skew, items with u^3 (a long tail), all event types, eight categories,
 * 30-minute session ids and a small share of malformed lines. Deterministic for a seed, so a
 * file written by `bench/shop-stream.ts` and a live `bench/load.ts` run carry the same stream.
 */
export interface ShopStreamOptions {
  readonly users: number;
  readonly items: number;
  /** Share of lines that are truncated JSON (dead letters). */
  readonly malformed: number;
  /** Prefix of every event_id, so runs never share ids. */
  readonly runId: string;
  readonly seed?: number;
}

export interface ShopMessage {
  readonly key: string;
  readonly value: string;
}

const TYPES = ['view', 'view', 'view', 'view', 'click', 'click', 'add_to_cart', 'purchase'];
export const CATEGORIES = [
  'home',
  'garden',
  'toys',
  'kitchen',
  'books',
  'fashion',
  'sports',
  'beauty',
];

export class ShopStream {
  private state: number;
  private nextId = 0;

  constructor(private readonly opts: ShopStreamOptions) {
    this.state = (opts.seed ?? 0x9e3779b9) >>> 0 || 1;
  }

  /** xorshift32: fast, and the same sequence on every machine. */
  private rnd(): number {
    let s = this.state;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.state = s >>> 0;
    return this.state / 4294967296;
  }

  /** The next message, stamped with event time `ts` (epoch ms). */
  next(ts: number): ShopMessage {
    const { users, items, malformed, runId } = this.opts;
    const user = `u${Math.floor(this.rnd() ** 1.5 * users)}`;
    if (this.rnd() < malformed) return { key: user, value: `{"event_id":"bad-${this.nextId++}",` };
    const itemNo = Math.floor(this.rnd() ** 3 * items);
    return {
      key: user,
      value: JSON.stringify({
        event_id: `${runId}-${this.nextId++}`,
        ts,
        user_id: user,
        item_id: `i${itemNo}`,
        type: TYPES[Math.floor(this.rnd() * TYPES.length)],
        category: CATEGORIES[itemNo % CATEGORIES.length],
        price: Math.round(this.rnd() * 20_000) / 100,
        session_id: `${user}-${Math.floor(ts / 1_800_000)}`,
      }),
    };
  }
}
