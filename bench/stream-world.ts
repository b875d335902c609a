/**
 * The synthetic shop the quality streams (bench/streams.ts) are drawn from: categories of items
 * with skewed popularity, and sessions of typed events (view → add_to_cart → purchase).
 * Everything is driven by one seeded PRNG, so a seed names a stream exactly.
 */

export const DAY_MS = 86_400_000;
export const T0 = Date.UTC(2025, 0, 6);

/** mulberry32: tiny, seedable, good enough for workload generation. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  /** Index 0..n-1 with P(r) ∝ 1/(r+1)^s. */
  zipf(n: number, s = 1): number {
    let total = 0;
    for (let r = 0; r < n; r++) total += 1 / Math.pow(r + 1, s);
    let x = this.next() * total;
    for (let r = 0; r < n; r++) {
      x -= 1 / Math.pow(r + 1, s);
      if (x <= 0) return r;
    }
    return n - 1;
  }
  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}

const WORDS = [
  'kitchen', 'garden', 'lamp', 'candle', 'mug', 'frame', 'cushion', 'clock', 'bag', 'toy',
  'card', 'jar', 'tin', 'bowl', 'towel', 'light', 'box', 'sign', 'vase', 'plate', 'tray',
  'basket', 'mirror', 'rug', 'shelf', 'hook', 'bottle', 'brush', 'blanket', 'scarf',
]; // prettier-ignore
const ADJ = ['red', 'blue', 'vintage', 'retro', 'small', 'large', 'pink', 'green', 'white', 'gold'];

export interface Item {
  readonly id: string;
  readonly category: number;
  readonly title: string;
  /** Day the item appears in the catalog (0 for the initial catalog). */
  readonly day: number;
}

export interface Line {
  event_id: string;
  ts: number;
  user_id: string;
  item_id: string;
  type: 'view' | 'add_to_cart' | 'purchase';
  category: string;
  session_id: string;
}

/** The catalog and the event log being written; ids are opaque (no category in them). */
export class World {
  readonly items: Item[] = [];
  /** items per category, in popularity order (index 0 the most popular) */
  readonly byCat: Item[][];
  readonly lines: Line[] = [];
  private seq = 0;
  private sessions = 0;

  constructor(
    readonly rng: Prng,
    readonly categories: number,
    itemsPerCategory: number,
  ) {
    this.byCat = Array.from({ length: categories }, () => []);
    for (let c = 0; c < categories; c++)
      for (let k = 0; k < itemsPerCategory; k++) this.addItem(c, 0);
  }

  catName(c: number): string {
    return `cat-${WORDS[c % WORDS.length]}${c >= WORDS.length ? c : ''}`;
  }

  /** A new item; `front` puts it at the head of its category's popularity order. */
  addItem(category: number, day: number, front = false): Item {
    const n = this.items.length;
    const id = `P${(100_000 + ((n * 7919) % 900_000)).toString()}`;
    const word = WORDS[category % WORDS.length] as string;
    const title = `${this.rng.pick(ADJ)} ${word} ${this.rng.pick(WORDS)} ${n}`.toUpperCase();
    const item: Item = { id, category, title, day };
    this.items.push(item);
    const list = this.byCat[category] as Item[];
    if (front) list.unshift(item);
    else list.push(item);
    return item;
  }

  /** A Zipf-popular item of the category, skipping the first `skip` popularity ranks. */
  popularIn(category: number, skip = 0): Item {
    const list = this.byCat[category] as Item[];
    const n = Math.max(1, list.length - skip);
    return list[Math.min(list.length - 1, skip + this.rng.zipf(n, 0.9))] as Item;
  }

  newSession(): string {
    return `s${++this.sessions}`;
  }

  emit(user: string, item: Item, type: Line['type'], ts: number, session: string): void {
    this.lines.push({
      event_id: `ev${++this.seq}`,
      ts: Math.round(ts),
      user_id: user,
      item_id: item.id,
      type,
      category: this.catName(item.category),
      session_id: session,
    });
  }

  /**
   * One browsing session of `length` steps a minute or two apart: a view, or (one step in
   * four) a cart add straight from a listing. The cart add is a fresh draw, not the item just
   * viewed: otherwise "re-show what they looked at" would predict every test case and the
   * streams would measure nothing else. Carts are bought at the end with probability `buy`.
   */
  session(user: string, start: number, length: number, draw: () => Item, buy = 0.5): number {
    const s = this.newSession();
    let ts = start;
    const carted: Item[] = [];
    for (let e = 0; e < length; e++) {
      const item = draw();
      const cart = this.rng.next() < 0.25;
      this.emit(user, item, cart ? 'add_to_cart' : 'view', ts, s);
      if (cart) carted.push(item);
      ts += 30_000 + this.rng.exp(60_000);
    }
    for (const item of carted) {
      if (this.rng.next() < buy) this.emit(user, item, 'purchase', ts, s);
    }
    return ts;
  }

  /** Catalog records (topic `items`), each at the start of the day its item appears. */
  catalog(): string[] {
    return this.items.map((it) =>
      JSON.stringify({
        item_id: it.id,
        ts: T0 + it.day * DAY_MS - 60_000,
        title: it.title,
        category: this.catName(it.category),
      }),
    );
  }

  /** The event log in time order (ties keep generation order) as JSON lines. */
  events(): string[] {
    return this.lines
      .map((l, i) => ({ l, i }))
      .sort((a, b) => a.l.ts - b.l.ts || a.i - b.i)
      .map(({ l }) => JSON.stringify(l));
  }
}

/** Session start times of one user over `days`: about `perDay` sessions a day, in daytime. */
export function sessionStarts(rng: Prng, days: number, perDay: number): number[] {
  const out: number[] = [];
  for (let d = 0; d < days; d++) {
    let n = 0;
    while (rng.next() < perDay / (perDay + 1) && n < 4) n++;
    for (let k = 0; k < n; k++) out.push(T0 + d * DAY_MS + (8 + rng.next() * 14) * 3_600_000);
  }
  return out.sort((a, b) => a - b);
}
