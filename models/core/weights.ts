import { EVENT_TYPES, type EventType } from '../event.js';

/**
 * How strongly each event type says "this user wants this item". Ordered view < click <
 * add_to_cart < purchase; a click on a push is a deliberate act, so it ranks near a cart add.
 * A removal from the cart is negative evidence; models that cannot use negatives ignore it.
 */
export type EventWeights = Readonly<Record<EventType, number>>;

export const DEFAULT_EVENT_WEIGHTS: EventWeights = {
  view: 1,
  click: 2,
  push_open: 0.5,
  add_to_cart: 4,
  push_click: 4,
  purchase: 6,
  remove_from_cart: -2,
};

/** Event types as small ints, so per-event type can live in a Uint8Array. */
export const TYPE_CODE: Readonly<Record<EventType, number>> = Object.fromEntries(
  EVENT_TYPES.map((t, i) => [t, i]),
) as Record<EventType, number>;

/** Weights indexed by type code, divided by the purchase weight so a purchase counts 1. */
export function weightTable(w: Partial<EventWeights> | undefined): Float64Array {
  const merged: EventWeights = { ...DEFAULT_EVENT_WEIGHTS, ...w };
  const base = merged.purchase > 0 ? merged.purchase : 1;
  const t = new Float64Array(EVENT_TYPES.length);
  for (const type of EVENT_TYPES) t[TYPE_CODE[type]] = merged[type] / base;
  return t;
}

const BOUGHT: ReadonlySet<EventType> = new Set<EventType>(['purchase', 'add_to_cart']);

/** Types that make an item "bought together" rather than "viewed together" in reasons. */
export function isBuyCode(code: number): boolean {
  return BOUGHT.has(EVENT_TYPES[code]);
}

export const DAY_MS = 86_400_000;
