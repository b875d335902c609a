import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClickEvent } from '../../models/event.js';
import { burstCategory, nextWindow, readWindow } from '../../push/burst-list.js';
import { interestEntries } from '../../push/interest.js';
import { PushUsers } from '../../push/push-users.js';
import {
  recentDelete,
  recentFirst,
  recentGet,
  recentSet,
  recentSize,
  type RecentMap,
} from '../../push/recent-map.js';
import { CatalogTrigger, InterestBurstTrigger } from '../../push/triggers.js';
import { decodeUser, encodeUser } from '../../push/user-codec.js';
import { USER_BOUNDS, type UserPushState } from '../../push/user-state.js';

/** The interest as the pair list it was before the first item's time went to the columns. */
class PairInterest {
  m: RecentMap = [];
  view(item: string, ts: number): void {
    const prev = recentGet(this.m, item);
    if (prev !== undefined && prev >= ts) return;
    recentDelete(this.m, item);
    this.m = recentSet(this.m, item, ts);
    while (recentSize(this.m) > USER_BOUNDS.interest)
      recentDelete(this.m, recentFirst(this.m) as string);
  }
  buy(item: string): void {
    recentDelete(this.m, item);
  }
  entries(): { keys: string[]; times: number[] } {
    const keys: string[] = [];
    const times: number[] = [];
    for (let i = 0; i < this.m.length; i += 2) {
      keys.push(this.m[i] as string);
      times.push(this.m[i + 1] as number);
    }
    return { keys, times };
  }
}

interface OldWindow {
  names: string[];
  tw: number[];
}

/**
 * The burst windows as two lists per window ([category, items...], [firedAt, t, w, ...]), as
 * InterestBurstTrigger kept them before the flat list; affinity 0, every event weight 1 + its
 * type's index, so a window fires at `minEvents` events.
 */
class OldBursts {
  list: OldWindow[] = [];
  constructor(
    private readonly windowMs: number,
    private readonly minEvents: number,
  ) {}
  observe(category: string, item: string, ts: number, w: number): string[] | undefined {
    const at = this.list.findIndex((x) => x.names[0] === category);
    const win =
      at >= 0 ? (this.list.splice(at, 1)[0] as OldWindow) : { names: [category], tw: [-Infinity] };
    win.tw.push(ts, w);
    win.names.push(item);
    const from = ts - this.windowMs;
    let count = (win.tw.length - 1) / 2;
    let drop = Math.max(0, count - USER_BOUNDS.burstEvents);
    while (drop < count && (win.tw[1 + 2 * drop] as number) <= from) drop++;
    if (drop > 0) {
      win.tw.splice(1, 2 * drop);
      win.names.splice(1, drop);
      count -= drop;
    }
    this.list.push(win);
    while (this.list.length > USER_BOUNDS.burstCategories) this.list.shift();
    if (ts - (win.tw[0] as number) < this.windowMs) return undefined;
    if (count < this.minEvents) return undefined;
    win.tw[0] = ts;
    const items: string[] = [];
    for (let i = win.names.length - 1; i >= 1; i--)
      if (!items.includes(win.names[i] as string)) items.push(win.names[i] as string);
    return items;
  }
  sweep(watermark: number): void {
    const from = watermark - this.windowMs;
    this.list = this.list.filter(({ tw }) => {
      const idle = tw.length === 1 || (tw[tw.length - 2] as number) <= from;
      return !(idle && (tw[0] as number) <= from);
    });
  }
  /** As the flat list reads back: category, firedAt, items, times, weights per window. */
  view(): unknown[] {
    return this.list.map(({ names, tw }) => [
      names[0],
      tw[0],
      names.slice(1),
      tw.filter((_, i) => i % 2 === 1),
      tw.filter((_, i) => i > 0 && i % 2 === 0),
    ]);
  }
}

function flatView(s: UserPushState): unknown[] {
  const out: unknown[] = [];
  const l = s.bursts ?? [];
  for (let at = 0; at < l.length; at = nextWindow(l, at)) {
    const w = readWindow(l, at);
    if (burstCategory(l, at) !== w.category) throw new Error('category');
    out.push([w.category, w.firedAt, w.items, w.times, w.weights]);
  }
  return out;
}

/** Deep comparison is the slow part of these runs: text, numbers (-Infinity, NaN) spelled out. */
const text = (v: unknown): string =>
  JSON.stringify(v, (_, x: unknown) => (typeof x === 'number' ? String(x) : x));

const TYPES = ['view', 'click', 'add_to_cart', 'purchase'] as const;

const op = fc.record({
  kind: fc.nat(9),
  item: fc.nat(120),
  cat: fc.nat(20),
  dt: fc.integer({ min: -30, max: 60 }),
});

describe('flat per-user push state (issue 12) against the lists it replaced', () => {
  it('interest: one item inline, more in a list, the same entries through restores', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400, size: 'max' }), fc.boolean(), (ops, fewItems) => {
        const catalog = new CatalogTrigger({ minDropPct: 5, interestTtlMs: 1e12 });
        const users = new PushUsers(4, 1e12, (id, s) => catalog.dropUser(id, s));
        const ref = new PairInterest();
        let t = 1_000;
        for (const o of ops) {
          t += o.dt;
          const s = users.touch('u', t);
          const itemId = `i${fewItems ? o.item % 3 : o.item}`;
          const type = TYPES[o.kind % 4] as ClickEvent['type'];
          catalog.observe({ eventId: 'e', ts: t, userId: 'u', itemId, type }, s);
          if (type === 'purchase') ref.buy(itemId);
          else ref.view(itemId, t);
          expect(text(interestEntries(s))).toBe(text(ref.entries()));
          if (o.kind === 9) {
            const back = decodeUser(encodeUser(s));
            expect(encodeUser(back)).toEqual(encodeUser(s));
            users.set('u', back);
            catalog.reindex('u', back);
            expect(text(interestEntries(back))).toBe(text(ref.entries()));
          }
        }
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('bursts: one flat list fires, keeps and sweeps windows as the two lists per window did', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 500, size: 'max' }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        // long windows: nothing expires, so the 64 events of a window are reached
        fc.constantFrom(400, 1e6),
        (ops, minEvents, fewCats, windowMs) => {
          const trigger = new InterestBurstTrigger(
            {
              halfLifeMs: 1e9,
              weight: (type) => 1 + TYPES.indexOf(type as 'view'),
              affinity: () => 0,
            },
            { windowMs, minEvents, ratio: 1 },
          );
          const users = new PushUsers(4, 1e12, () => undefined);
          const ref = new OldBursts(windowMs, minEvents);
          let t = 1_000;
          for (const o of ops) {
            t += o.dt;
            let s = users.touch('u', t);
            if (o.kind === 8) {
              trigger.sweep(s, t);
              ref.sweep(t);
            } else {
              const type = TYPES[o.kind % 4] as ClickEvent['type'];
              const category = `c${fewCats ? o.cat % 2 : o.cat}`;
              const itemId = `i${o.item}`;
              const got = trigger.observe(
                { eventId: 'e', ts: t, userId: 'u', itemId, type },
                category,
                s,
              );
              const want = ref.observe(category, itemId, t, 1 + TYPES.indexOf(type as 'view'));
              expect(got?.itemIds).toEqual(want);
            }
            if (o.kind === 9) {
              s = decodeUser(encodeUser(s));
              users.set('u', s);
            }
            expect(text(flatView(s))).toBe(text(ref.view()));
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);
});
