/**
 * A seeded synthetic clickstream for integration tests: shoppers browse items in categories,
 * cart some and buy some; a share of lines is malformed in many different ways, and some valid
 * events are sent twice. Everything the tests assert is derived from what this returns.
 */
export interface SyntheticStream {
  readonly lines: string[];
  /** event_id of every distinct valid event. */
  readonly validIds: Set<string>;
  /** Line indexes (0-based) of the malformed lines. */
  readonly malformedLines: number[];
  readonly duplicateLines: number;
  readonly purchases: Map<string, Set<string>>;
  readonly users: string[];
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MALFORMED: ((rnd: () => number, i: number) => string)[] = [
  () => '{"event_id": "broken", "ts": ',
  () => 'not json at all',
  () => '[1, 2, 3]',
  (_r, i) =>
    JSON.stringify({ event_id: `m${i}`, ts: 1, user_id: 'u', item_id: 'i', type: 'teleport' }),
  (_r, i) => JSON.stringify({ event_id: `m${i}`, user_id: 'u', item_id: 'i', type: 'view' }),
  (_r, i) =>
    JSON.stringify({ event_id: `m${i}`, ts: 'tomorrow', user_id: 'u', item_id: 'i', type: 'view' }),
  (_r, i) =>
    JSON.stringify({
      event_id: `m${i}`,
      ts: 1,
      user_id: 'u',
      item_id: 'i',
      type: 'purchase',
      price: -3,
    }),
  (_r, i) =>
    JSON.stringify({
      event_id: `m${i}`,
      ts: 1,
      user_id: 'u'.repeat(200),
      item_id: 'i',
      type: 'view',
    }),
  (_r, i) =>
    JSON.stringify({
      event_id: `m${i}`,
      ts: 1,
      user_id: 'u',
      item_id: 'i',
      type: 'view',
      props: { blob: 'x'.repeat(17_000) },
    }),
  (_r, i) => JSON.stringify({ event_id: `m${i}`, ts: 1, user_id: 'u', item_id: '', type: 'view' }),
  (_r, i) =>
    JSON.stringify({
      event_id: `m${i}`,
      ts: 1,
      user_id: 'u',
      item_id: 'i',
      type: 'purchase',
      quantity: 0,
    }),
  () => '',
];

export function syntheticStream(opts: {
  events: number;
  malformed: number;
  duplicates: number;
  seed?: number;
  users?: number;
  items?: number;
  startTs?: number;
  /** How far (in lines) a line may move from event-time order; default 50. */
  displacement?: number;
  /** Largest gap between consecutive events, ms; default 2000. */
  maxGapMs?: number;
}): SyntheticStream {
  const rnd = mulberry32(opts.seed ?? 42);
  const nUsers = opts.users ?? 300;
  const nItems = opts.items ?? 400;
  const categories = ['home', 'garden', 'toys', 'kitchen', 'books', 'fashion'];
  const users = Array.from({ length: nUsers }, (_, i) => `user-${i}`);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  let ts = opts.startTs ?? Date.UTC(2026, 10, 1, 9);
  const valid: { id: string; line: string }[] = [];
  const purchases = new Map<string, Set<string>>();
  for (let i = 0; i < opts.events; i++) {
    ts += Math.floor(rnd() * (opts.maxGapMs ?? 2000));
    const user = pick(users);
    const itemNo = Math.floor(Math.pow(rnd(), 2) * nItems); // a popularity skew, as in real shops
    const item = `item-${itemNo}`;
    const r = rnd();
    const type =
      r < 0.6
        ? 'view'
        : r < 0.75
          ? 'click'
          : r < 0.88
            ? 'add_to_cart'
            : r < 0.92
              ? 'remove_from_cart'
              : 'purchase';
    const id = `ev-${opts.seed ?? 42}-${i}`;
    if (type === 'purchase') {
      let s = purchases.get(user);
      if (!s) purchases.set(user, (s = new Set()));
      s.add(item);
    }
    valid.push({
      id,
      line: JSON.stringify({
        event_id: id,
        ts,
        user_id: user,
        item_id: item,
        type,
        category: categories[itemNo % categories.length],
        price: Math.round(rnd() * 10_000) / 100,
        session_id: `${user}-s${Math.floor(ts / 1_800_000)}`,
      }),
    });
  }
  const lines: string[] = valid.map((v) => v.line);
  for (let d = 0; d < opts.duplicates; d++)
    lines.push((valid[Math.floor(rnd() * valid.length)] as { line: string }).line);
  for (let m = 0; m < opts.malformed; m++)
    lines.push((MALFORMED[m % MALFORMED.length] as (r: () => number, i: number) => string)(rnd, m));
  // Shuffle lightly so malformed lines and repeats are spread through the stream.
  for (let i = lines.length - 1; i > 0; i--) {
    if (rnd() < 0.5) continue;
    const j = Math.max(0, i - Math.floor(rnd() * (opts.displacement ?? 50)));
    [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
  }
  const malformedLines: number[] = [];
  const validIds = new Set(valid.map((v) => v.id));
  lines.forEach((l, i) => {
    try {
      const o = JSON.parse(l) as { event_id?: string };
      if (
        typeof o === 'object' &&
        o !== null &&
        typeof o.event_id === 'string' &&
        validIds.has(o.event_id)
      )
        return;
    } catch {
      /* malformed */
    }
    malformedLines.push(i);
  });
  return { lines, validIds, malformedLines, duplicateLines: opts.duplicates, purchases, users };
}
