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

/** Delivery channels (CONTRACT §5), in the order the static policy prefers them. */
export const CHANNELS = ['push', 'email', 'in_app', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];
export const isChannel = (s: unknown): s is Channel =>
  typeof s === 'string' && (CHANNELS as readonly string[]).includes(s);

/** Template variants (styles shared by every trigger and locale: docs/push.md). */
export const VARIANTS = ['A', 'B', 'C'] as const;
export type Variant = (typeof VARIANTS)[number];

/** A user's consent and locale from the `preferences` topic (CONTRACT §5); the latest wins. */
export interface PreferenceUpdate {
  readonly userId: string;
  readonly ts: number;
  readonly channels: Readonly<Record<Channel, boolean>>;
  readonly personalization?: boolean;
  readonly tz?: string;
  readonly locale?: string;
}

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
  /** Why it fired, for the decision row (`reason`). */
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
  /** `code: detail`, e.g. `sent: email at 19:00 local (best hour), variant B (Thompson), ...`. */
  readonly reason: string;
  /** Event time of the decision: the trigger time, or the delivery time of a scheduled push. */
  readonly ts: number;
  readonly items: readonly string[];
  readonly idempotencyKey: string;
  /** The notification JSON, on sent decisions. */
  readonly payload?: string;
  /** = idempotencyKey (CONTRACT §5 name). */
  readonly pushId: string;
  /** The chosen channel; '' only when the user consented to none. */
  readonly channel: Channel | '';
  readonly variant: Variant;
  /** P(chosen channel and variant) under the policy that chose them. */
  readonly propensity: number;
  /** P(chosen variant) alone (off-policy evaluation of variant policies needs it). */
  readonly variantPropensity: number;
  /** Epoch ms the push is (or would have been) delivered at. */
  readonly scheduledFor: number;
  readonly holdout: boolean;
  /** The policy's predicted open probability and incremental conversion probability. */
  readonly pOpen: number;
  readonly uplift: number;
  readonly locale: string;
}

export type PushOutcomeKind = 'open' | 'click' | 'purchase';

/** An attributed reaction to a push (ClickHouse `push_outcomes`). */
export interface PushOutcome {
  readonly pushId: string;
  readonly userId: string;
  readonly kind: PushOutcomeKind;
  /** Event time of the reaction. */
  readonly ts: number;
  readonly eventId: string;
  readonly itemId: string;
  readonly trigger: PushTrigger;
  readonly channel: Channel | '';
  readonly variant: Variant;
  readonly holdout: boolean;
  /** For purchases: 1 when the item was in the push, 0 for "any purchase of that user". */
  readonly itemMatch: boolean;
  /** Delivery time of the push the reaction is attributed to. */
  readonly pushTs: number;
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
  readonly push_id: string;
  readonly channel: Channel;
  readonly variant: Variant;
  readonly locale: string;
  readonly propensity: number;
  readonly scheduled_for: number;
  readonly holdout: boolean;
}

/** What the one scoring step chose for a candidate: whether aside, when, where and which text. */
export interface PushAction {
  readonly channel: Channel | '';
  readonly variant: Variant;
  readonly propensity: number;
  readonly variantPropensity: number;
  readonly scheduledFor: number;
  readonly pOpen: number;
  readonly uplift: number;
  readonly locale: string;
  /** Pushes the user had in the frequency window before delivery (the fatigue context). */
  readonly load: number;
  /** `email at 19:00 local (best hour), variant B (Thompson), uplift +0.8 pp`. */
  readonly summary: string;
}
