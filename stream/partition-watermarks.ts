/**
 * Event-time progress per source partition. The stream's watermark may only advance as far as
 * its slowest partition, or a partition read later (a backfill, a slow broker) would find all its
 * windows already closed. A partition with no new event for `idleMs` of processing time stops
 * holding the others back (as Flink's idleness does), and counts again once it has data.
 */
export class PartitionWatermarks {
  private readonly maxTs = new Map<string, number>();
  private readonly lastSeen = new Map<string, number>();
  private firstSeen: number | undefined;

  constructor(private readonly idleMs: number) {}

  observe(partitionId: string, ts: number, now: number): void {
    this.firstSeen ??= now;
    const prev = this.maxTs.get(partitionId);
    if (prev === undefined || ts > prev) this.maxTs.set(partitionId, ts);
    this.lastSeen.set(partitionId, now);
  }

  /**
   * The minimum max-event-time over active partitions; +Infinity when none is active. For one
   * idle period after the first event nothing advances: partitions the consumer has not fetched
   * from yet cannot be in the minimum, and their first events would otherwise arrive late.
   */
  cap(now: number): number {
    if (this.firstSeen !== undefined && now - this.firstSeen < this.idleMs) {
      return Number.NEGATIVE_INFINITY;
    }
    let cap = Number.POSITIVE_INFINITY;
    for (const [id, ts] of this.maxTs) {
      if (now - (this.lastSeen.get(id) ?? 0) > this.idleMs) continue;
      if (ts < cap) cap = ts;
    }
    return cap;
  }
}
