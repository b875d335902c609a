/** What can make recpipe push a notification to a user. */
export const PUSH_TRIGGERS = [
  'abandoned_cart',
  'price_drop',
  'back_in_stock',
  'interest_burst',
  'new_recommendation',
] as const;

export type PushTrigger = (typeof PUSH_TRIGGERS)[number];

export const isPushTrigger = (s: unknown): s is PushTrigger =>
  typeof s === 'string' && (PUSH_TRIGGERS as readonly string[]).includes(s);

/** Something worth telling a user, before the policy decides whether, when and how often. */
export interface PushCandidate {
  readonly userId: string;
  readonly trigger: PushTrigger;
  /** The item the notification is about first; part of the idempotency key. */
  readonly itemId: string;
  /** Items to show, `itemId` first. */
  readonly itemIds: readonly string[];
  /** Event time the trigger fired at (the cart's deadline, the catalog update's ts, ...). */
  readonly ts: number;
  /** Why it fired, for the decision row (`reason`) of a sent push. */
  readonly detail: string;
  /** Values the templates may use beyond item titles and prices. */
  readonly vars?: Readonly<Record<string, string>>;
}

export type PushDecisionKind = 'sent' | 'deferred' | 'suppressed';

/**
 * One decision, as the `push_notifications` table stores it. Structurally the PushDecision of
 * sinks/types.ts, so rows go to ClickHouse without copying.
 */
export interface PushDecision {
  readonly userId: string;
  readonly trigger: PushTrigger;
  readonly decision: PushDecisionKind;
  /** `code: detail`; for a sent push the code is `fired`. */
  readonly reason: string;
  /** Event time of the decision: the trigger time, or the end of quiet hours for a deferred one. */
  readonly ts: number;
  readonly items: readonly string[];
  readonly idempotencyKey: string;
  /** The notification JSON, on sent decisions. */
  readonly payload?: string;
}

/** A sent decision's message for the push topic (the runtime adds the topic name). */
export interface PushMessage {
  readonly idempotencyKey: string;
  /** user_id, so one user's notifications stay ordered in one partition. */
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The notification as downstream senders receive it (docs/push.md). */
export interface PushPayload {
  readonly user_id: string;
  readonly trigger: PushTrigger;
  readonly items: readonly {
    readonly item_id: string;
    readonly title: string;
    readonly price: number | null;
  }[];
  readonly title: string;
  readonly body: string;
  readonly deep_link: string;
  readonly expires_at: string;
  readonly idempotency_key: string;
  readonly created_at: string;
}
