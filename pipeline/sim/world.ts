import { cachedOffset as zoneOffsetMs } from '../../push/send-time.js';
import { CHANNELS, PUSH_TRIGGERS, VARIANTS, type Channel } from '../../push/types.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/**
 * The synthetic shop's ground truth. The first block is fixed by issue 15 so results compare:
 * a push opens with `pOpenHit` when delivered within `hitWindowH` of the user's preferred local
 * hour on their preferred channel, else `pOpenMiss`; every push delivered in the 24 h before
 * multiplies that by `fatigue`; variants multiply it by `variantMultipliers` (rotated per
 * trigger, so the best variant differs by trigger); an open converts with `pConvOpen`, and every
 * user converts on their own with `pConvDaily` per day.
 */
export interface WorldOptions {
  readonly users: number;
  readonly days: number;
  readonly seed: number;
  readonly pOpenHit: number;
  readonly pOpenMiss: number;
  readonly hitWindowH: number;
  readonly fatigue: number;
  readonly variantMultipliers: readonly [number, number, number];
  readonly pConvOpen: number;
  readonly pConvDaily: number;
  /** Catalog size and categories; visits per user per day; events per visit. */
  readonly items: number;
  readonly categories: number;
  readonly visitsPerDay: number;
  readonly eventsPerVisit: number;
  /** Per user lognormal spread of the variant multipliers (their hidden taste). */
  readonly tasteSpread: number;
}

export const DEFAULT_WORLD: WorldOptions = {
  users: 20_000,
  days: 30,
  seed: 1,
  pOpenHit: 0.3,
  pOpenMiss: 0.05,
  hitWindowH: 1,
  fatigue: 0.8,
  variantMultipliers: [1.0, 1.3, 0.8],
  pConvOpen: 0.1,
  pConvDaily: 0.01,
  items: 2_000,
  categories: 10,
  visitsPerDay: 0.25,
  eventsPerVisit: 3,
  tasteSpread: 0.1,
};

/** Monday 2026-03-02 00:00 UTC: a plain month, no DST change in the zones below. */
export const SIM_START = Date.UTC(2026, 2, 2);
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'] as const;
/** Consent profiles (channel masks over CHANNELS order push, email, in_app, sms) and their shares. */
const CONSENT: readonly { mask: number; share: number; message: boolean }[] = [
  { mask: 0b0101, share: 0.6, message: false },
  { mask: 0b0111, share: 0.2, message: true },
  { mask: 0b0010, share: 0.1, message: true },
  { mask: 0b1111, share: 0.05, message: true },
  { mask: 0b0000, share: 0.05, message: true },
];
const CHANNEL_TASTE = [0.45, 0.3, 0.2, 0.05];

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

const gauss = (r: () => number): number =>
  Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());

export interface SimMessage {
  readonly ts: number;
  readonly topic: 'clicks' | 'items' | 'prefs';
  readonly value: string;
  readonly key?: string;
}

/** A sent push as the world sees it. */
export interface Delivery {
  readonly user: number;
  readonly pushId: string;
  readonly trigger: string;
  readonly channel: string;
  readonly variant: string;
  readonly at: number;
  readonly itemId: string;
}

export interface Reaction {
  /** The true open probability of the push as delivered, and of each variant instead. */
  readonly pOpen: number;
  readonly pOpenByVariant: readonly number[];
  readonly events: SimMessage[];
  readonly opened: boolean;
  readonly converted: boolean;
  /** Delivered within the hit window of the preferred hour; on the preferred channel. */
  readonly hourHit: boolean;
  readonly channelHit: boolean;
}

/**
 * Users with hidden preferred hours, channels, variant tastes and fatigue, a catalog with price
 * and stock changes, organic visits and purchases (identical for every policy given the seed),
 * and the users' reactions to pushes (their own random stream).
 */
export class World {
  readonly o: WorldOptions;
  readonly prefHour: Float64Array;
  readonly prefChannel: Uint8Array;
  readonly mask: Uint8Array;
  readonly zone: Uint8Array;
  private readonly taste: Float32Array;
  private readonly fav: Uint16Array;
  readonly rate: Float32Array;
  private readonly message: Uint8Array;
  /** Recent delivery times per user (fatigue). */
  private readonly delivered: number[][];
  private readonly react: () => number;
  private readonly price: Float64Array;
  private seq = 0;

  constructor(o: Partial<WorldOptions> = {}) {
    this.o = { ...DEFAULT_WORLD, ...o };
    const n = this.o.users;
    const r = mulberry32(this.o.seed * 7919 + 1);
    this.react = mulberry32(this.o.seed * 104_729 + 3);
    this.prefHour = new Float64Array(n);
    this.prefChannel = new Uint8Array(n);
    this.mask = new Uint8Array(n);
    this.zone = new Uint8Array(n);
    this.taste = new Float32Array(3 * n);
    this.fav = new Uint16Array(n);
    this.rate = new Float32Array(n);
    this.message = new Uint8Array(n);
    this.delivered = Array.from({ length: n }, () => []);
    for (let u = 0; u < n; u++) {
      this.prefHour[u] = 24 * r();
      let x = r();
      const profile =
        CONSENT.find((c) => (x -= c.share) < 0) ?? (CONSENT[0] as (typeof CONSENT)[0]);
      this.mask[u] = profile.mask;
      this.message[u] = profile.message ? 1 : 0;
      // The favourite channel is one the user consented to (people allow what they use).
      let total = 0;
      for (let c = 0; c < 4; c++) if (profile.mask & (1 << c)) total += CHANNEL_TASTE[c] as number;
      let y = r() * total;
      this.prefChannel[u] = 0;
      for (let c = 0; c < 4; c++) {
        if (!(profile.mask & (1 << c))) continue;
        this.prefChannel[u] = c;
        if ((y -= CHANNEL_TASTE[c] as number) < 0) break;
      }
      this.zone[u] = Math.floor(r() * ZONES.length);
      for (let v = 0; v < 3; v++) this.taste[3 * u + v] = Math.exp(this.o.tasteSpread * gauss(r));
      this.fav[u] = Math.floor(r() * this.o.categories);
      this.rate[u] = this.o.visitsPerDay * (0.5 + r());
    }
    this.price = new Float64Array(this.o.items);
    const pr = mulberry32(this.o.seed * 31 + 5);
    for (let i = 0; i < this.o.items; i++) this.price[i] = 5 + Math.round(pr() * 9500) / 100;
  }

  tz(u: number): string {
    return ZONES[this.zone[u] as number] as string;
  }

  userId(u: number): string {
    return `u${u}`;
  }

  /** Preference messages of the users who sent one, and the initial catalog, before the start. */
  initial(): SimMessage[] {
    const out: SimMessage[] = [];
    const t0 = SIM_START - HOUR;
    for (let i = 0; i < this.o.items; i++)
      out.push(this.item(t0, i, { title: `thing ${i}`, price: this.price[i], in_stock: true }));
    for (let u = 0; u < this.o.users; u++) {
      if (!this.message[u]) continue;
      const channels = Object.fromEntries(
        CHANNELS.map((c, i) => [c, ((this.mask[u] as number) & (1 << i)) !== 0]),
      );
      const value = JSON.stringify({
        user_id: this.userId(u),
        ts: t0,
        channels,
        tz: this.tz(u),
        locale: u % 5 === 0 ? 'de-DE' : 'en-GB',
      });
      out.push({ ts: t0, topic: 'prefs', value, key: this.userId(u) });
    }
    return out;
  }

  private item(ts: number, i: number, extra: object): SimMessage {
    const value = JSON.stringify({
      item_id: `i${i}`,
      ts,
      category: `c${i % this.o.categories}`,
      ...extra,
    });
    return { ts, topic: 'items', value };
  }

  private click(u: number, ts: number, type: string, item: number, props?: object): SimMessage {
    const value = JSON.stringify({
      event_id: `e${this.seq++}`,
      ts,
      user_id: this.userId(u),
      item_id: `i${item}`,
      type,
      category: `c${item % this.o.categories}`,
      price: this.price[item],
      ...(props && { props }),
    });
    return { ts, topic: 'clicks', value, key: this.userId(u) };
  }

  /**
   * Day `d`'s organic messages, sorted: catalog changes (5 % of items change price, 60 % of those
   * drop 10–40 %; 1 % sell out for a day or two), visits (70 % around the preferred hour, the rest
   * in the local daytime) of a few views in mostly the favourite category with an occasional cart
   * (a third of them removed again), and organic purchases. Depends on the seed and `d` only.
   */
  organicDay(d: number): SimMessage[] {
    const r = mulberry32(this.o.seed * 1_000_003 + d * 9_973 + 11);
    const out: SimMessage[] = [];
    const dayStart = SIM_START + d * DAY;
    const perCat = Math.ceil(this.o.items / this.o.categories);
    for (let i = 0; i < this.o.items; i++) {
      const x = r();
      const ts = dayStart + Math.floor(r() * DAY);
      if (x < 0.05) {
        const drop = r() < 0.6;
        const p = this.price[i] as number;
        this.price[i] = Math.round(p * (drop ? 0.6 + 0.3 * r() : 1.05 + 0.2 * r()) * 100) / 100;
        out.push(this.item(ts, i, { price: this.price[i] }));
      } else if (x < 0.06) {
        out.push(this.item(ts, i, { in_stock: false }));
        out.push(this.item(ts + DAY + Math.floor(r() * DAY), i, { in_stock: true }));
      }
    }
    for (let u = 0; u < this.o.users; u++) {
      const tz = this.tz(u);
      const off = zoneOffsetMs(dayStart, tz);
      let visits = 0;
      for (let L = Math.exp(-(this.rate[u] as number)), p = r(); p > L; p *= r()) visits++;
      for (let k = 0; k < visits; k++) {
        const local = r() < 0.7 ? (this.prefHour[u] as number) + 0.75 * gauss(r) : 8 + 15 * r();
        let ts = dayStart - off + Math.floor(((((local % 24) + 24) % 24) * HOUR) as number);
        const len = 1 + Math.floor(r() * (2 * this.o.eventsPerVisit - 1));
        const cat = r() < 0.7 ? (this.fav[u] as number) : Math.floor(r() * this.o.categories);
        let cart = -1;
        for (let e = 0; e < len; e++) {
          ts += 20_000 + Math.floor(r() * 100_000);
          const item = Math.min(
            this.o.items - 1,
            cat + this.o.categories * Math.floor(r() * perCat),
          );
          const y = r();
          const type = y < 0.65 ? 'view' : y < 0.88 ? 'click' : 'add_to_cart';
          out.push(this.click(u, ts, type, item, e === 0 && !this.message[u] ? { tz } : undefined));
          if (type === 'add_to_cart') cart = item;
        }
        if (cart >= 0 && r() < 0.33) out.push(this.click(u, ts + 60_000, 'remove_from_cart', cart));
      }
      if (r() < this.o.pConvDaily) {
        const item = Math.min(
          this.o.items - 1,
          (this.fav[u] as number) + this.o.categories * Math.floor(r() * perCat),
        );
        out.push(this.click(u, dayStart + Math.floor(r() * DAY), 'purchase', item));
      }
    }
    out.sort((a, b) => a.ts - b.ts);
    return out;
  }

  /** Whether `at` is within the hit window of the user's preferred local hour. */
  hourHit(u: number, at: number): boolean {
    const local = (at + zoneOffsetMs(at, this.tz(u))) / HOUR;
    const h = ((local % 24) + 24) % 24;
    const d = Math.abs(h - (this.prefHour[u] as number));
    return Math.min(d, 24 - d) <= this.o.hitWindowH;
  }

  /** The true open probability of a push delivered to `u` at `at`, for each variant. */
  openProbabilities(u: number, at: number, channel: string, trigger: string): number[] {
    const hit = this.hourHit(u, at) && channel === CHANNELS[this.prefChannel[u] as number];
    const list = this.delivered[u] as number[];
    let recent = 0;
    for (const t of list) if (t > at - DAY && t < at) recent++;
    const base = (hit ? this.o.pOpenHit : this.o.pOpenMiss) * this.o.fatigue ** recent;
    const t = Math.max(0, PUSH_TRIGGERS.indexOf(trigger as 'price_drop'));
    return VARIANTS.map((_, v) =>
      Math.min(
        1,
        base *
          (this.o.variantMultipliers[(v + t) % 3] as number) *
          (this.taste[3 * u + v] as number),
      ),
    );
  }

  /** The user's reaction to a delivered push: an open (and a click), maybe a purchase. */
  deliver(p: Delivery): Reaction {
    const byVariant = this.openProbabilities(p.user, p.at, p.channel, p.trigger);
    const pOpen = byVariant[Math.max(0, VARIANTS.indexOf(p.variant as 'A'))] as number;
    const list = this.delivered[p.user] as number[];
    while (list.length > 0 && (list[0] as number) <= p.at - DAY) list.shift();
    list.push(p.at);
    const events: SimMessage[] = [];
    const opened = this.react() < pOpen;
    let converted = false;
    if (opened) {
      const at = p.at + 5 * MIN + Math.floor(this.react() * 30 * MIN);
      const props = { push_id: p.pushId, channel: p.channel as Channel, trigger: p.trigger };
      const item = Number(p.itemId.slice(1));
      events.push(this.click(p.user, at, 'push_open', item, props));
      converted = this.react() < this.o.pConvOpen;
      if (converted)
        events.push(
          this.click(p.user, at + 5 * MIN + Math.floor(this.react() * 30 * MIN), 'purchase', item),
        );
    }
    return {
      pOpen,
      pOpenByVariant: byVariant,
      events,
      opened,
      converted,
      hourHit: this.hourHit(p.user, p.at),
      channelHit: p.channel === CHANNELS[this.prefChannel[p.user] as number],
    };
  }
}
