import {
  VARIANTS,
  type Channel,
  type PushPayload,
  type PushTrigger,
  type Variant,
} from './types.js';
import { ownValue } from '../models/core/own.js';

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

type Texts = Readonly<Record<PushTrigger, readonly [Template, Template, Template]>>;

/**
 * Notification texts per locale, trigger and variant (A, B, C: the same three styles everywhere:
 * A plain, B personal and urgent, C short). Placeholders: {title} and {price} of the first item,
 * {others} (how many more items), and the trigger's own values: {old_price}, {new_price}, {pct}
 * (price drop), {category}, {count} (burst, cart). A placeholder without a value is dropped with
 * the words around it in parentheses, so a missing price never prints "{price}".
 */
export const TEMPLATES: Readonly<Record<string, Texts>> = {
  en: {
    abandoned_cart: [
      {
        title: 'Still thinking it over?',
        body: '{title} ({price}) is waiting in your cart.',
        bodyMany: '{title} and {others} more are waiting in your cart.',
      },
      {
        title: 'You left something behind',
        body: 'We kept {title} ({price}) for you. Complete your order before it sells out.',
        bodyMany: 'We kept {title} and {others} more for you. Complete your order now.',
      },
      { title: 'Your cart', body: '{title} ({price})', bodyMany: '{title} + {others} more' },
    ],
    price_drop: [
      { title: 'Price drop: {title}', body: 'Now {new_price}, down {pct}% from {old_price}.' },
      {
        title: 'Good news: {title} is cheaper',
        body: 'The {title} you looked at is now {new_price} ({pct}% off). Grab it while it lasts.',
      },
      { title: '−{pct}%: {title}', body: 'Now {new_price}.' },
    ],
    back_in_stock: [
      {
        title: 'Back in stock',
        body: '{title} ({price}) is available again. Get it before it is gone.',
      },
      {
        title: 'It is back, just for you',
        body: '{title} ({price}) is back. Last time it sold out fast.',
      },
      { title: 'Available again', body: '{title} ({price})' },
    ],
    interest_burst: [
      {
        title: 'More in {category} for you',
        body: 'Picked for you: {title} ({price}).',
        bodyMany: 'Picked for you: {title} ({price}) and {others} more.',
      },
      {
        title: 'Your {category} picks',
        body: 'Since you love {category}: {title} ({price}).',
        bodyMany: 'Since you love {category}: {title} ({price}) and {others} more.',
      },
      { title: 'New in {category}', body: '{title} ({price})' },
    ],
    new_recommendation: [
      {
        title: 'We think you will like this',
        body: '{title} ({price})',
        bodyMany: '{title} ({price}) and {others} more picks for you.',
      },
      {
        title: 'Picked just for you',
        body: 'Based on what you liked: {title} ({price}).',
        bodyMany: 'Based on what you liked: {title} ({price}) and {others} more.',
      },
      { title: 'For you', body: '{title} ({price})' },
    ],
  },
  de: {
    abandoned_cart: [
      {
        title: 'Noch unentschlossen?',
        body: '{title} ({price}) wartet in deinem Warenkorb.',
        bodyMany: '{title} und {others} weitere warten in deinem Warenkorb.',
      },
      {
        title: 'Du hast etwas vergessen',
        body: 'Wir haben {title} ({price}) für dich zurückgelegt. Jetzt bestellen, bevor es weg ist.',
        bodyMany: 'Wir haben {title} und {others} weitere für dich zurückgelegt.',
      },
      {
        title: 'Dein Warenkorb',
        body: '{title} ({price})',
        bodyMany: '{title} + {others} weitere',
      },
    ],
    price_drop: [
      {
        title: 'Preissenkung: {title}',
        body: 'Jetzt {new_price}, {pct}% weniger als {old_price}.',
      },
      {
        title: 'Gute Nachricht: {title} ist günstiger',
        body: '{title} kostet jetzt {new_price} ({pct}% günstiger). Schnell zugreifen!',
      },
      { title: '−{pct}%: {title}', body: 'Jetzt {new_price}.' },
    ],
    back_in_stock: [
      {
        title: 'Wieder da',
        body: '{title} ({price}) ist wieder verfügbar. Sichere es dir, bevor es weg ist.',
      },
      {
        title: 'Extra für dich wieder da',
        body: '{title} ({price}) ist zurück. Letztes Mal war es schnell ausverkauft.',
      },
      { title: 'Wieder verfügbar', body: '{title} ({price})' },
    ],
    interest_burst: [
      {
        title: 'Mehr aus {category} für dich',
        body: 'Für dich ausgewählt: {title} ({price}).',
        bodyMany: 'Für dich ausgewählt: {title} ({price}) und {others} weitere.',
      },
      {
        title: 'Deine {category}-Auswahl',
        body: 'Weil du {category} magst: {title} ({price}).',
        bodyMany: 'Weil du {category} magst: {title} ({price}) und {others} weitere.',
      },
      { title: 'Neu in {category}', body: '{title} ({price})' },
    ],
    new_recommendation: [
      {
        title: 'Das könnte dir gefallen',
        body: '{title} ({price})',
        bodyMany: '{title} ({price}) und {others} weitere Tipps für dich.',
      },
      {
        title: 'Extra für dich ausgesucht',
        body: 'Passend zu deinen Favoriten: {title} ({price}).',
        bodyMany: 'Passend zu deinen Favoriten: {title} ({price}) und {others} weitere.',
      },
      { title: 'Für dich', body: '{title} ({price})' },
    ],
  },
};

export const formatPrice = (p: number | undefined): string | undefined =>
  p === undefined || !Number.isFinite(p) ? undefined : p.toFixed(2);

function fill(text: string, vars: Readonly<Record<string, string | undefined>>): string {
  // A parenthesised group whose placeholder has no value goes away entirely.
  const pruned = text.replace(/\s*\(([^()]*)\)/g, (group, inner: string) =>
    /\{(\w+)\}/.test(inner) &&
    [...inner.matchAll(/\{(\w+)\}/g)].some((m) => ownValue(vars, m[1]) === undefined)
      ? ''
      : group,
  );
  return pruned.replace(/\{(\w+)\}/g, (_m, k: string) => ownValue(vars, k) ?? '').trim();
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
  readonly channel: Channel;
  readonly variant: Variant;
  readonly locale: string;
  readonly propensity: number;
  readonly scheduledFor: number;
}

export function renderPayload(r: RenderInput): PushPayload {
  const texts = (ownValue(TEMPLATES, r.locale) ?? TEMPLATES.en) as Texts;
  const t = texts[r.trigger][Math.max(0, VARIANTS.indexOf(r.variant))];
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
    push_id: r.idempotencyKey,
    channel: r.channel,
    variant: r.variant,
    locale: r.locale,
    propensity: r.propensity,
    scheduled_for: r.scheduledFor,
    holdout: false,
  };
}
