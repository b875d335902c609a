/**
 * Dense int ids for string ids, so model state lives in typed arrays indexed by row.
 * Ids are never released: a row costs a few floats, and recycling would corrupt learned state.
 */
export class IdMap {
  private readonly index = new Map<string, number>();
  private readonly names: string[] = [];

  get size(): number {
    return this.names.length;
  }

  /** The int id of `id`, assigned on first sight. */
  intern(id: string): number {
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.names.length;
      this.index.set(id, i);
      this.names.push(id);
    }
    return i;
  }

  /** The int id, or -1 when never seen (lookups must not grow the map). */
  get(id: string): number {
    return this.index.get(id) ?? -1;
  }

  name(i: number): string {
    return this.names[i];
  }

  toArray(): string[] {
    return this.names.slice();
  }

  /** Replaces the contents; ids are the array positions. */
  load(names: readonly string[]): void {
    this.index.clear();
    this.names.length = 0;
    for (const n of names) this.intern(n);
  }
}
