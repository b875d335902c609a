import { renderPayload, type TemplateItem } from './templates.js';
import type { PushAction, PushCandidate, PushDecision, PushMessage } from './types.js';
import type { RecentPush } from './user-state.js';

interface ItemInfo {
  title?: string;
  category?: string;
  price?: number;
}

/**
 * Item titles, categories and prices for texts, from catalog updates and events: one entry per
 * item, at most `max` (least recently added dropped first).
 */
export class ItemInfos {
  private readonly info = new Map<string, ItemInfo>();

  constructor(private readonly max = 1_000_000) {}

  get(itemId: string): ItemInfo | undefined {
    return this.info.get(itemId);
  }

  /** The item's entry, created when missing. */
  of(itemId: string): ItemInfo {
    let st = this.info.get(itemId);
    if (!st) {
      if (this.info.size >= this.max) this.info.delete(this.info.keys().next().value as string);
      this.info.set(itemId, (st = {}));
    }
    return st;
  }
}

/** One `push_notifications` row for a candidate and the action the scoring step chose. */
export function decisionRow(
  c: PushCandidate,
  at: number,
  key: string,
  decision: PushDecision['decision'],
  reason: string,
  items: readonly string[],
  a: PushAction,
  holdout: boolean,
): PushDecision {
  return {
    userId: c.userId,
    trigger: c.trigger,
    decision,
    reason,
    ts: at,
    items,
    idempotencyKey: key,
    pushId: key,
    channel: a.channel,
    variant: a.variant,
    propensity: a.propensity,
    variantPropensity: a.variantPropensity,
    scheduledFor: a.scheduledFor,
    holdout,
    pOpen: a.pOpen,
    uplift: a.uplift,
    locale: a.locale,
  };
}

/** What the user's state keeps of a delivered (or held-out, would-be) push. */
export function recentPush(
  key: string,
  c: PushCandidate,
  a: PushAction,
  items: readonly string[],
  holdout: boolean,
): RecentPush {
  return {
    pushId: key,
    trigger: c.trigger,
    channel: a.channel,
    variant: a.variant,
    ts: a.scheduledFor,
    items,
    holdout,
    load: a.load,
    opened: false,
    converted: false,
  };
}

/** The sent row (with its payload) and the push topic's message, delivered at a.scheduledFor. */
export function sentOutput(
  c: PushCandidate,
  key: string,
  a: PushAction,
  itemIds: readonly string[],
  infos: ItemInfos,
  o: { maxItems: number; ttlMs: number; deepLink: string },
): { row: PushDecision; message: PushMessage; items: string[] } {
  const at = a.scheduledFor;
  const shown: TemplateItem[] = itemIds.slice(0, o.maxItems).map((id) => {
    const st = infos.get(id);
    return {
      itemId: id,
      title: st?.title ?? id,
      ...(st?.price !== undefined && { price: st.price }),
    };
  });
  const payload = JSON.stringify(
    renderPayload({
      userId: c.userId,
      trigger: c.trigger,
      items: shown,
      ...(c.vars && { vars: c.vars }),
      idempotencyKey: key,
      createdAt: at,
      ttlMs: o.ttlMs,
      deepLink: o.deepLink,
      channel: a.channel === '' ? 'push' : a.channel,
      variant: a.variant,
      locale: a.locale,
      propensity: a.propensity,
      scheduledFor: at,
    }),
  );
  const items = shown.map((x) => x.itemId);
  const row = decisionRow(c, at, key, 'sent', `sent: ${a.summary}; ${c.detail}`, items, a, false);
  return {
    row: { ...row, payload },
    message: {
      idempotencyKey: key,
      key: c.userId,
      value: payload,
      headers: {
        trigger: c.trigger,
        'idempotency-key': key,
        channel: a.channel,
        variant: a.variant,
      },
    },
    items,
  };
}
