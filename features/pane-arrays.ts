/** Growth of the pane columns (pane-rows.ts, pane-hashes.ts, activity-panes.ts). */

/** Doubling up to 65,536 rows, then by a quarter (less unused tail; models/core/arrays.ts). */
export function grownLength(cur: number): number {
  return Math.max(64, cur < 65_536 ? cur * 2 : cur + (cur >> 2));
}

export function grow<T extends Float64Array | Int32Array | Uint32Array | Int8Array | Uint8Array>(
  from: T,
  to: T,
): T {
  to.set(from);
  return to;
}
