import { itemScore, gruStep, type SequenceModel } from './gru-model.js';

/** One event of a stored clickstream, as the nearline trainer reads it. */
export interface SessionRow {
  readonly user: string;
  readonly ts: number;
  readonly item: string;
  /** '' when the producer gave none: then only the time gap splits sessions. */
  readonly session: string;
}

export interface StoredSession {
  readonly items: readonly string[];
  /** Time of the last event. */
  readonly end: number;
}

/**
 * Sessions of rows sorted by user then time, cut where serving cuts them (sessions.ts): a new
 * user, another session id (when `bySessionId`), or a gap over `gapMs` (Infinity: never); a
 * repeat of the previous item is dropped.
 * Sessions of one item teach nothing and are left out.
 */
export function buildSessions(
  rows: readonly SessionRow[],
  gapMs: number,
  bySessionId = true,
): StoredSession[] {
  const out: StoredSession[] = [];
  let items: string[] = [];
  let end = 0;
  let prev: SessionRow | undefined;
  const close = (): void => {
    if (items.length >= 2) out.push({ items, end });
    items = [];
  };
  for (const r of rows) {
    const fresh =
      prev === undefined ||
      r.user !== prev.user ||
      r.ts - prev.ts > gapMs ||
      (bySessionId && r.session !== '' && r.session !== prev.session);
    if (fresh) close();
    if (fresh || items[items.length - 1] !== r.item) items.push(r.item);
    end = r.ts;
    prev = r;
  }
  close();
  return out;
}

/** The vocabulary of some sessions (first-seen order) and the sessions as its rows. */
export function encodeSessions(sessions: readonly StoredSession[]): {
  vocab: string[];
  encoded: Int32Array[];
} {
  const rowOf = new Map<string, number>();
  const vocab: string[] = [];
  const encoded = sessions.map((s) =>
    Int32Array.from(s.items, (id) => {
      let r = rowOf.get(id);
      if (r === undefined) {
        r = vocab.length;
        rowOf.set(id, r);
        vocab.push(id);
      }
      return r;
    }),
  );
  return { vocab, encoded };
}

/**
 * HR@k of next-item prediction over held-out sessions: at every step the model's top k over
 * its whole vocabulary must contain the item that came next (an item it does not know is a
 * miss). At most `maxPositions` predictions are scored; NaN with none.
 */
export function sessionHitRate(
  m: SequenceModel,
  sessions: readonly StoredSession[],
  k: number,
  maxPositions = 5_000,
): number {
  const rowOf = new Map(m.vocab.map((id, r) => [id, r]));
  const h = new Float32Array(m.dim);
  const g = new Float32Array(6 * m.dim);
  const V = m.vocab.length;
  let hits = 0;
  let n = 0;
  for (const s of sessions) {
    h.fill(0);
    for (let t = 0; t + 1 < s.items.length && n < maxPositions; t++) {
      const r = rowOf.get(s.items[t]);
      if (r !== undefined) gruStep(m, h, 0, r, g);
      n++;
      const target = rowOf.get(s.items[t + 1]);
      if (target === undefined) continue;
      const st = itemScore(m, h, 0, target);
      let above = 0;
      for (let c = 0; c < V && above < k; c++)
        if (c !== target && itemScore(m, h, 0, c) > st) above++;
      if (above < k) hits++;
    }
  }
  return n > 0 ? hits / n : Number.NaN;
}
