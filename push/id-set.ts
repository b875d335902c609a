/**
 * A set of ids in insertion order: a list copied to exact size while small, a Set beyond.
 * Why (issue 12): the catalog trigger keeps one per item (its interested users, a few each on
 * most items), and a Set reserves a table of 4 or 8 entries and costs about 230 B with 7
 * ids, where the list costs about 100. Order, adds of a present id (kept in place) and deletes
 * are those of a Set; iterate with for-of either way.
 */
export type IdSet = string[] | Set<string>;

/** Lists grow by an exact copy up to this many ids; the next add makes a Set. */
const SMALL = 16;

export const idSetSize = (s: IdSet): number => (Array.isArray(s) ? s.length : s.size);

/** Adds `id` last (a present id keeps its place); returns the set, which may be a new object. */
export function idSetAdd(s: IdSet, id: string): IdSet {
  if (!Array.isArray(s)) return s.add(id);
  if (s.includes(id)) return s;
  if (s.length < SMALL) return s.concat([id]);
  return new Set(s).add(id);
}

export function idSetDelete(s: IdSet, id: string): boolean {
  if (!Array.isArray(s)) return s.delete(id);
  const i = s.indexOf(id);
  if (i < 0) return false;
  s.splice(i, 1);
  return true;
}

/** The id added first of those present. */
export function idSetOldest(s: IdSet): string | undefined {
  if (Array.isArray(s)) return s[0];
  const first = s.values().next();
  return first.done ? undefined : first.value;
}
