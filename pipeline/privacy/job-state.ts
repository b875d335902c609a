import type { ModelContext } from '../../models/core/context.js';
import type { FeatureStore } from '../../features/feature-store.js';
import type { PushEngine } from '../../push/engine.js';
import type { PurchaseHistory } from '../../models/purchase-history.js';
import type { Recommender } from '../../models/recommender.js';

/** The per-user state one `run` process holds in memory (everything an erasure must reach). */
export interface JobState {
  readonly model: { readonly ctx: ModelContext } & Pick<Recommender, 'recommend'>;
  readonly history: PurchaseHistory;
  readonly features: FeatureStore;
  readonly push?: PushEngine | undefined;
  readonly quality?: { forgetUser(userId: string): boolean } | undefined;
  /** Which users' Redis state is loaded (pipeline/runtime/user-state.ts). */
  readonly current: { forgetUser(userId: string): void };
  /** The state changelogs (push-durability.ts): tombstones for the users' feature windows. */
  readonly changelog?: { forgetUser(userId: string): void } | undefined;
}

/** Users found (and erased) per part of the state, for the audit row. */
export interface OnlineErasure {
  model: number;
  purchases: number;
  features: number;
  push: number;
  evaluation: number;
}

/**
 * Erases the users from the process's memory: model rows (factors, recent items, categories,
 * served-list caches: ModelContext.forgetUser), purchase exclusions, feature windows and
 * sessions, push state (pending carts, deferred pushes, learned profiles, bandit context) and
 * the online evaluation's history. Synchronous, so no batch is learned half before, half after.
 * `ids` are the names the graph uses (pseudonyms when they are on).
 */
export function eraseJobState(
  state: JobState,
  ids: readonly string[],
  /** An opt-out keeps the push state: it holds the channel consent that must be honoured. */
  keepPush = false,
): OnlineErasure {
  const out: OnlineErasure = { model: 0, purchases: 0, features: 0, push: 0, evaluation: 0 };
  for (const id of ids) {
    if (state.model.ctx.forgetUser(id)) out.model++;
    if (state.history.erase(id)) out.purchases++;
    if (state.features.forgetUser(id)) out.features++;
    if (!keepPush && state.push?.forgetUser(id)) out.push++;
    if (state.quality?.forgetUser(id)) out.evaluation++;
    state.current.forgetUser(id);
    state.changelog?.forgetUser(id);
  }
  return out;
}
