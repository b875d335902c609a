/**
 * The one sanctioned way to read a plain object by a key that came from input: own properties
 * only, so `constructor`, `toString` or `__proto__` never answer with something inherited from
 * Object.prototype. Everything else keyed by untrusted strings is a Map
 * (test/unit/untrusted-keys.test.ts enforces both).
 */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
