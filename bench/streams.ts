/**
 * Synthetic streams that test what Online Retail cannot (it is almost pure basket continuation):
 *   drift       half the users move to another category cluster midway, mostly towards a few
 *               categories that rise in fashion; within every category the hot items change weekly
 *   sequential  sessions that walk chains of items in order (A, then B, then C); chains share
 *               items, so what comes next depends on where the user came from
 *   coldstart   new items every day in every category, and new arrivals are what people look at
 * Each writes NAME.jsonl (clickstream, CONTRACT §1, with category and session_id) and
 * NAME-items.jsonl (the catalog, topic `items`) into --out. Deterministic for a given --seed.
 *   npx tsc -p tsconfig.json && node dist/bench/streams.js [--out bench/out/streams] [--seed 1]
 *     [--users 2000] [--days 28] [--only drift,sequential,coldstart]
 * Measure with `node dist/bench/models.js OUT/drift.jsonl --items OUT/drift-items.jsonl` or
 * `recpipe replay --input OUT/drift.jsonl --items OUT/drift-items.jsonl --eval prequential`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAY_MS, Prng, T0, World, sessionStarts, type Item } from './stream-world.js';

interface Args {
  out: string;
  seed: number;
  users: number;
  days: number;
  only: string[];
}

const CATEGORIES = 24;
const ITEMS_PER_CATEGORY = 40;

/** Sessions per user and day, in daytime hours. */
function daySessions(rng: Prng, day: number, perDay: number): number[] {
  return sessionStarts(rng, 1, perDay).map((t) => t + day * DAY_MS);
}

export function drift(a: Args): World {
  const rng = new Prng(a.seed);
  const w = new World(rng, CATEGORIES, ITEMS_PER_CATEGORY);
  const rising = [0, 1, 2, 3, 4, 5].map(() => rng.int(CATEGORIES));
  const users = Array.from({ length: a.users }, () => {
    const primary = rng.int(CATEGORIES);
    const switches = rng.next() < 0.5;
    return {
      primary,
      secondary: rng.int(CATEGORIES),
      // the new cluster: a rising category most of the time, any other one otherwise
      next: rng.next() < 0.7 ? rng.pick(rising) : rng.int(CATEGORIES),
      switchAt: switches ? T0 + a.days * (0.35 + 0.3 * rng.next()) * DAY_MS : Infinity,
      rate: 0.15 + rng.next() * 0.5,
    };
  });
  // each week the popularity order of every category shifts by 5: new hot items
  const pick = (cat: number, ts: number): Item => {
    const list = w.byCat[cat] as Item[];
    const week = Math.floor((ts - T0) / (7 * DAY_MS));
    const r = rng.zipf(list.length, 0.9);
    return list[(((r - 5 * week) % list.length) + list.length) % list.length] as Item;
  };
  for (let d = 0; d < a.days; d++) {
    users.forEach((u, n) => {
      for (const start of daySessions(rng, d, u.rate)) {
        const home = start >= u.switchAt ? u.next : u.primary;
        const cat = rng.next() < 0.85 ? home : u.secondary;
        w.session(`u${n}`, start, 2 + rng.int(7), () => pick(cat, start));
      }
    });
  }
  return w;
}

export function sequential(a: Args): World {
  const rng = new Prng(a.seed + 1);
  const w = new World(rng, CATEGORIES, ITEMS_PER_CATEGORY);
  // chains mostly stay in one category (camera, card, case, tripod) and reuse popular items, so
  // the same item is a step of several chains with different successors
  const chains: Item[][] = Array.from({ length: 240 }, () => {
    const cat = rng.int(CATEGORIES);
    const len = 3 + rng.int(3);
    return Array.from({ length: len }, () =>
      w.popularIn(rng.next() < 0.8 ? cat : rng.int(CATEGORIES)),
    );
  });
  const users = Array.from({ length: a.users }, () => ({
    home: rng.int(CATEGORIES),
    rate: 0.15 + rng.next() * 0.5,
  }));
  for (let d = 0; d < a.days; d++) {
    users.forEach((u, n) => {
      const user = `u${n}`;
      for (const start of daySessions(rng, d, u.rate)) {
        if (rng.next() < 0.4) {
          w.session(user, start, 2 + rng.int(5), () => w.popularIn(u.home));
          continue;
        }
        const chain = chains[rng.zipf(chains.length, 0.6)] as Item[];
        const steps = 2 + rng.int(chain.length - 1);
        const s = w.newSession();
        let ts = start;
        for (let k = 0; k < steps; k++) {
          const item = chain[k] as Item;
          if (rng.next() < 0.3) {
            w.emit(user, w.popularIn(item.category), 'view', ts, s);
            ts += 20_000 + rng.exp(40_000);
          }
          w.emit(user, item, 'add_to_cart', ts, s);
          ts += 20_000 + rng.exp(40_000);
        }
        if (rng.next() < 0.5) w.emit(user, chain[steps - 1] as Item, 'purchase', ts, s);
      }
    });
  }
  return w;
}

export function coldstart(a: Args): World {
  const rng = new Prng(a.seed + 2);
  const w = new World(rng, CATEGORIES, ITEMS_PER_CATEGORY);
  const users = Array.from({ length: a.users }, () => ({
    home: rng.int(CATEGORIES),
    second: rng.int(CATEGORIES),
    rate: 0.15 + rng.next() * 0.5,
  }));
  for (let d = 0; d < a.days; d++) {
    // new arrivals go to the head of their category: they are what shoppers see first
    if (d > 0)
      for (let c = 0; c < CATEGORIES; c++) for (let k = 0; k < 2; k++) w.addItem(c, d, true);
    users.forEach((u, n) => {
      for (const start of daySessions(rng, d, u.rate)) {
        const cat = rng.next() < 0.8 ? u.home : u.second;
        w.session(`u${n}`, start, 2 + rng.int(7), () => w.popularIn(cat));
      }
    });
  }
  return w;
}

const GENERATORS: Record<string, (a: Args) => World> = { drift, sequential, coldstart };

function parseArgs(argv: string[]): Args {
  const a: Args = { out: 'bench/out/streams', seed: 1, users: 2000, days: 28, only: [] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${argv[i]} needs a value`);
    if (argv[i] === '--out') a.out = v;
    else if (argv[i] === '--seed') a.seed = Number(v);
    else if (argv[i] === '--users') a.users = Number(v);
    else if (argv[i] === '--days') a.days = Number(v);
    else if (argv[i] === '--only') a.only = v.split(',');
    else throw new Error(`unknown flag ${argv[i]}`);
    i++;
  }
  return a;
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  mkdirSync(a.out, { recursive: true });
  for (const [name, gen] of Object.entries(GENERATORS)) {
    if (a.only.length > 0 && !a.only.includes(name)) continue;
    const w = gen(a);
    const events = w.events();
    writeFileSync(join(a.out, `${name}.jsonl`), `${events.join('\n')}\n`);
    writeFileSync(join(a.out, `${name}-items.jsonl`), `${w.catalog().join('\n')}\n`);
    process.stderr.write(
      `[streams] ${name}: ${events.length} events, ${w.items.length} items -> ${a.out}\n`,
    );
  }
}

if (process.argv[1]?.endsWith('streams.js')) main();
