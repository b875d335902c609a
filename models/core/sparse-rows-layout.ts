/** Column of a free slot in a row's hash table. */
export const EMPTY = -1;
/**
 * Words per slot: [column, weight (float bits), position in the top list or -1]; a top list
 * entry is [column, weight, slot], the same stride.
 */
export const S = 3;
