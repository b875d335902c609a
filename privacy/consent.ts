import type { PreferenceUpdate } from '../push/types.js';

/**
 * Who opted out of personalisation (`preferences` topic, `personalization: false`; the latest
 * message per user wins, a message without the field means personalised). The one per-user fact
 * kept for them: their events are stored but neither learned, featurised nor served (see
 * operators/withhold-opted-out.ts); they get the global fallback list. Bound: `maxUsers` ids, the
 * oldest opt-out dropped first (config `limits.users`; the runtime persists the set in Redis).
 */
export class ConsentRegistry {
  private readonly optedOut = new Map<string, number>();
  private readonly changed = new Map<string, boolean>();

  constructor(private readonly maxUsers = 1_000_000) {}

  isOptedOut(userId: string): boolean {
    return this.optedOut.has(userId);
  }

  get size(): number {
    return this.optedOut.size;
  }

  /** Applies preference messages in order. */
  apply(prefs: readonly PreferenceUpdate[]): void {
    for (const p of prefs) {
      const out = p.personalization === false;
      if (out === this.optedOut.has(p.userId)) continue;
      if (out) this.add(p.userId, p.ts);
      else this.optedOut.delete(p.userId);
      this.changed.set(p.userId, out);
    }
  }

  /** Opt-outs known from before (the runtime's persisted set), without reporting changes. */
  load(entries: Iterable<[string, number]>): void {
    for (const [u, ts] of entries) this.add(u, ts);
  }

  /** Removes a user without reporting a change (right to erasure). */
  erase(userId: string): boolean {
    this.changed.delete(userId);
    return this.optedOut.delete(userId);
  }

  /** What changed since the last call: user → opted out now. */
  takeChanges(): Map<string, boolean> {
    const out = new Map(this.changed);
    this.changed.clear();
    return out;
  }

  private add(userId: string, ts: number): void {
    this.optedOut.set(userId, ts);
    if (this.optedOut.size > this.maxUsers) {
      const oldest = this.optedOut.keys().next().value as string;
      this.optedOut.delete(oldest);
    }
  }
}
