import type { PushDecision, PushDecisionKind, PushMessage } from '../../push/types.js';

/** A push decision with neutral values; `payload` only on sent ones, as the engine writes them. */
export const pushDecision = (
  user: string,
  key: string,
  kind: PushDecisionKind = 'sent',
): PushDecision => ({
  userId: user,
  trigger: 'abandoned_cart',
  decision: kind,
  reason: `${kind}: test`,
  ts: 1,
  items: ['i'],
  idempotencyKey: key,
  ...(kind === 'sent' ? { payload: '{}' } : {}),
  pushId: key,
  channel: 'push',
  variant: 'A',
  propensity: 1,
  variantPropensity: 1,
  scheduledFor: 1,
  holdout: false,
  pOpen: 0,
  uplift: 0,
  locale: 'en',
});

/** The push-topic message of a sent decision. */
export const pushMessage = (d: PushDecision): PushMessage => ({
  idempotencyKey: d.idempotencyKey,
  key: d.userId,
  value: '{}',
  headers: { 'idempotency-key': d.idempotencyKey },
});
