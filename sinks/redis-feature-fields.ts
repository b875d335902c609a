import type { FeatureSet } from './types.js';

/**
 * Per Redis key, the sets its hash gets: the newest window of each family (the latest
 * computation on ties), then the unwindowed values in arrival order (later ones win).
 */
export function newestSetsPerKey(
  sets: readonly FeatureSet[],
  keyOf: (entity: FeatureSet['entity'], id: string) => string,
): Map<string, FeatureSet[]> {
  const perKey = new Map<string, { windowed: Map<string, FeatureSet>; state: FeatureSet[] }>();
  for (const s of sets) {
    const key = keyOf(s.entity, s.key);
    let k = perKey.get(key);
    if (!k) perKey.set(key, (k = { windowed: new Map(), state: [] }));
    if (s.window === undefined && s.windowEnd === 0) {
      k.state.push(s);
      continue;
    }
    const prev = k.windowed.get(s.family);
    if (
      !prev ||
      s.windowEnd > prev.windowEnd ||
      (s.windowEnd === prev.windowEnd && s.ts >= prev.ts)
    )
      k.windowed.set(s.family, s);
  }
  const out = new Map<string, FeatureSet[]>();
  for (const [key, { windowed, state }] of perKey) out.set(key, [...windowed.values(), ...state]);
  return out;
}

/**
 * A hash's JSON array `[field, value, ...]` from newestSetsPerKey's sets, with
 * `window_end_{label}`, the end of each label's newest window: a reader compares it with the
 * time to tell a value gone stale because the key had no events since (sets are written when a
 * key has events, not as its windows slide).
 */
export function fieldsJson(sets: readonly FeatureSet[]): string {
  let json = '[';
  const add = (field: string, value: string): void => {
    json += `${json.length > 1 ? ',' : ''}${JSON.stringify(field)},"${value}"`;
  };
  for (const s of sets) {
    for (let i = 0; i < s.names.length; i++) add(s.names[i] as string, String(s.values[i]));
    if (s.window !== undefined) add(`window_end_${s.window}`, String(s.windowEnd));
  }
  return `${json}]`;
}
