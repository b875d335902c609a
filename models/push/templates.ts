import type { PushPayload, PushTrigger } from './types.js';

/** What a template can say about one item. */
export interface TemplateItem {
  readonly itemId: string;
  readonly title: string;
  readonly price?: number;
}

interface Template {
  readonly title: string;
  readonly body: string;
  /** Used instead of `body` when the notification lists more than one item. */
  readonly bodyMany?: string;
}

/**
 * Notification texts per trigger. Placeholders: {title} and {price} of the first item, {others}
 * (how many more items), and the trigger's own values: {old_price}, {new_price}, {pct} (price
 * drop), {category}, {count} (burst, cart). A placeholder without a value is dropped with the
 * words around it in parentheses, so a missing price never prints "{price}".
 */
export const TEMPLATES: Readonly<Record<PushTrigger, Template>> = {
  abandoned_cart: {
    title: 'Still thinking it over?',
    body: '{title} ({price}) is waiting in your cart.',
    bodyMany: '{title} and {others} more are waiting in your cart.',
  },
  price_drop: {
    title: 'Price drop: {title}',
    body: 'Now {new_price}, down {pct}% from {old_price}.',
  },
  back_in_stock: {
    title: 'Back in stock',
    body: '{title} ({price}) is available again. Get it before it is gone.',
  },
  interest_burst: {
    title: 'More in {category} for you',
    body: 'Picked for you: {title} ({price}).',
    bodyMany: 'Picked for you: {title} ({price}) and {others} more.',
  },
  new_recommendation: {
    title: 'We think you will like this',
    body: '{title} ({price})',
    bodyMany: '{title} ({price}) and {others} more picks for you.',
  },
};

export const formatPrice = (p: number | undefined): string | undefined =>
  p === undefined || !Number.isFinite(p) ? undefined : p.toFixed(2);

function fill(text: string, vars: Readonly<Record<string, string | undefined>>): string {
  // A parenthesised group whose placeholder has no value goes away entirely.
  const pruned = text.replace(/\s*\(([^()]*)\)/g, (group, inner: string) =>
    /\{(\w+)\}/.test(inner) &&
    [...inner.matchAll(/\{(\w+)\}/g)].some((m) => vars[m[1]] === undefined)
      ? ''
      : group,
  );
  return pruned.replace(/\{(\w+)\}/g, (_m, k: string) => vars[k] ?? '').trim();
}

export interface RenderInput {
  readonly userId: string;
  readonly trigger: PushTrigger;
  readonly items: readonly TemplateItem[];
  readonly vars?: Readonly<Record<string, string>>;
  readonly idempotencyKey: string;
  /** Event time of the decision. */
  readonly createdAt: number;
  readonly ttlMs: number;
  /** `app://item/{item_id}` style; the first item's id is URL-encoded into it. */
  readonly deepLink: string;
}

export function renderPayload(r: RenderInput): PushPayload {
  const t = TEMPLATES[r.trigger];
  const first = r.items[0];
  const vars: Record<string, string | undefined> = {
    ...r.vars,
    title: first?.title,
    price: formatPrice(first?.price),
    others: String(Math.max(0, r.items.length - 1)),
  };
  const body = r.items.length > 1 && t.bodyMany ? t.bodyMany : t.body;
  return {
    user_id: r.userId,
    trigger: r.trigger,
    items: r.items.map((i) => ({ item_id: i.itemId, title: i.title, price: i.price ?? null })),
    title: fill(t.title, vars),
    body: fill(body, vars),
    deep_link: r.deepLink.replaceAll('{item_id}', encodeURIComponent(first?.itemId ?? '')),
    expires_at: new Date(r.createdAt + r.ttlMs).toISOString(),
    idempotency_key: r.idempotencyKey,
    created_at: new Date(r.createdAt).toISOString(),
  };
}
