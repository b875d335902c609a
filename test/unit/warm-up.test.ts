import { describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { validateMessage } from '../../stream/validate-event.js';
import { warmUp } from '../../pipeline/runtime/warm-up.js';
import { warmUpBatches } from '../../pipeline/runtime/warm-up-stream.js';

describe('warm-up', () => {
  it('off by 0: nothing runs', async () => {
    const cfg = configSchema.parse({ pipeline: { warmUpEvents: 0 } });
    const r = await warmUp(cfg, 'clicks');
    expect(r).toMatchObject({ events: 0, servedLists: 0, deltaRecords: 0 });
  });

  it('runs the graph, the encoders and the item delta exchange on throwaway state', async () => {
    const cfg = configSchema.parse({
      pipeline: { warmUpEvents: 3_000, batchMaxMessages: 500 },
      scale: { itemState: 'replica' },
    });
    const r = await warmUp(cfg, 'clicks');
    expect(r.events).toBe(3_000);
    // about 1 % of the lines are malformed on purpose: the dead-letter path runs too
    expect(r.deadLetters).toBeGreaterThan(5);
    expect(r.deadLetters).toBeLessThan(90);
    expect(r.servedLists).toBeGreaterThan(500);
    expect(r.featureSets).toBeGreaterThan(0);
    // every batch learns items of every one of the six delta partitions
    expect(r.deltaRecords).toBeGreaterThanOrEqual(6 * (3_000 / 500) - 6);
  }, 60_000);

  it('its stream is valid input but for the malformed lines, keyed by user, offsets in order', () => {
    const seen = new Map<string, number>();
    let bad = 0;
    let clicks = 0;
    for (const b of warmUpBatches({
      events: 2_000,
      batchSize: 300,
      inputTopic: 'clicks',
      itemsTopic: 'items',
      partitions: 3,
      startTs: Date.UTC(2026, 0, 1),
    })) {
      expect(b.items.length).toBeLessThanOrEqual(300);
      for (const m of b.items) {
        if (m.topic !== 'clicks') continue;
        clicks++;
        const key = `${m.partition}`;
        expect(m.offset).toBe(seen.get(key) ?? 0);
        seen.set(key, m.offset + 1);
        const v = validateMessage(m.value, { now: () => Date.UTC(2026, 0, 2) });
        if (!v.ok) {
          bad++;
          continue;
        }
        expect(v.event.userId).toBe(m.key);
      }
    }
    expect(clicks).toBeGreaterThan(1_900);
    expect(bad).toBeGreaterThan(0);
    expect(bad).toBeLessThan(60);
  });
});
