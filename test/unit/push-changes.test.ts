import { describe, expect, it } from 'vitest';
import type { ClickEvent } from '../../models/event.js';
import { PushEngine } from '../../push/engine.js';

const T0 = Date.parse('2026-11-02T10:00:00Z');
const ev = (userId: string, type: ClickEvent['type'], ts: number): ClickEvent => ({
  eventId: `${userId}-${ts}`,
  ts,
  userId,
  itemId: 'vase',
  type,
});
const step = (e: PushEngine, events: ClickEvent[], watermark: number) =>
  e.process({ events, items: [], recommendations: [], watermark });

describe('push engine changes (the changelog of issue 13)', () => {
  it('reports changed users with their bytes, a restored copy decides the same, and tombstones', () => {
    const engine = new PushEngine({ policy: 'static', holdout: { fraction: 0 } });
    engine.trackChanges();
    step(engine, [ev('a', 'add_to_cart', T0), ev('b', 'view', T0)], T0 - 1);
    const first = engine.takeChanges();
    expect(first.map((c) => c.userId).sort()).toEqual(['a', 'b']);
    expect(engine.takeChanges()).toEqual([]);

    // A restored engine (another process) sends the same cart push at the same time.
    const copy = new PushEngine({ policy: 'static', holdout: { fraction: 0 } });
    copy.trackChanges();
    for (const c of first) if (c.bytes) copy.restoreUser(c.userId, c.bytes);
    expect(copy.takeChanges()).toEqual([]);
    const later = T0 + 2 * 3_600_000;
    const a = step(engine, [], later);
    const b = step(copy, [], later);
    expect(b.messages.map((m) => m.idempotencyKey)).toEqual(
      a.messages.map((m) => m.idempotencyKey),
    );
    expect(a.messages.length).toBe(1);
    // The timer changed a's state (the cart went, the push is remembered).
    expect(engine.takeChanges().map((c) => c.userId)).toEqual(['a']);

    // Erased: a tombstone. Released (partition moved): nothing to write.
    engine.forgetUser('a');
    engine.releaseUsers(['b']);
    expect(engine.takeChanges()).toEqual([{ userId: 'a', bytes: undefined }]);
    expect(engine.userCount).toBe(0);
  });
});
