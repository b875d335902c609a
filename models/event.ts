/** The clickstream event of CONTRACT §1 after validation: ids are strings, ts is epoch ms. */
export const EVENT_TYPES = [
  'view',
  'click',
  'add_to_cart',
  'remove_from_cart',
  'purchase',
  'push_open',
  'push_click',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export interface ClickEvent {
  readonly eventId: string;
  /** Event time, epoch milliseconds (UTC). */
  readonly ts: number;
  readonly userId: string;
  readonly itemId: string;
  readonly type: EventType;
  readonly sessionId?: string;
  readonly category?: string;
  readonly price?: number;
  readonly quantity?: number;
  readonly props?: Readonly<Record<string, unknown>>;
  /**
   * `props` as serialised once at validation: what the sinks store, so a value that passed
   * validation can never fail (or differ) when it is written.
   */
  readonly propsJson?: string;
}

/** An item catalog event from the `items` topic (CONTRACT §1). */
export interface ItemEvent {
  readonly itemId: string;
  readonly ts: number;
  readonly title?: string;
  readonly category?: string;
  readonly price?: number;
  readonly inStock?: boolean;
}

export interface ScoredItem {
  readonly itemId: string;
  readonly score: number;
  /** Human-readable why, e.g. "bought together with 85123A" or "trending in HOME". */
  readonly reason: string;
  /** The ranking features the score came from, when the model logs them (nearline training). */
  readonly features?: readonly number[];
}
