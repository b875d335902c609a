import type { ServedRecommendation } from '../records/index.js';

/**
 * A served list's columns as JSON array texts: `["id",...]`, `["score",...]`, `["reason",...]`.
 * Redis's list script and ClickHouse's `recommendations` row take the same three texts, so each
 * list is encoded once per serve call instead of once per store (with 20 items, escaping ids
 * and reasons and printing scores was a third of the cost of serving a list). Scores are quoted
 * decimal strings: Lua must not reformat them (its numbers print with 14 digits), and ClickHouse
 * reads a quoted number into a Float64 column (18.16 and current) as the same double.
 */
export interface ServedListText {
  readonly items: string;
  readonly scores: string;
  readonly reasons: string;
}

/**
 * Texts of lists being served, per list object; bounded by the lists alive (a list dies with its
 * serve call, and its entry with it).
 */
const memo = new WeakMap<ServedRecommendation, ServedListText>();

/**
 * The list's shared texts, or undefined when a score is not finite: then each store spells it
 * its own way (Redis leaves NaN out and writes `+inf`, ClickHouse writes null), which the
 * callers' own encoders do.
 */
export function servedListText(r: ServedRecommendation): ServedListText | undefined {
  const known = memo.get(r);
  if (known !== undefined) return known;
  let items = '[';
  let scores = '[';
  let reasons = '[';
  for (let i = 0; i < r.items.length; i++) {
    const it = r.items[i] as ServedRecommendation['items'][number];
    if (!Number.isFinite(it.score)) return undefined;
    const sep = i > 0 ? ',' : '';
    items += sep + JSON.stringify(it.itemId);
    scores += `${sep}"${it.score}"`;
    reasons += sep + JSON.stringify(it.reason);
  }
  const text = { items: `${items}]`, scores: `${scores}]`, reasons: `${reasons}]` };
  memo.set(r, text);
  return text;
}
