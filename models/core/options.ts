import type { SnapshotReader } from './snapshot.js';

/** Options objects may carry explicit undefined (e.g. from CLI parsing); those mean "default". */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, v] of Object.entries(o))
    // trusted-key: option names of a typed options object
    if (v !== undefined) (out as Record<string, unknown>)[key] = v;
  return out;
}

/** A snapshot restored into the wrong model would score garbage silently. */
export function checkModel(r: SnapshotReader, name: string): void {
  const m = r.value('model');
  if (m !== name) throw new Error(`snapshot is of model ${String(m)}, not ${name}`);
}
