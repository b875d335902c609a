import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WindowEngine } from '../../stream/windowing/window-engine.js';
import {
  windowStats,
  type WindowStats,
  type WindowStatsAcc,
} from '../../stream/windowing/aggregators.js';
import { DistinctCounter } from '../../stream/windowing/distinct-counter.js';
import type { WindowOutput, WindowSpec } from '../../stream/windowing/types.js';

interface Ev {
  readonly key: string;
  readonly ts: number;
  readonly v: number;
  readonly d: string;
}
interface Arrived {
  readonly e: Ev;
  readonly seq: number;
}

/** Mostly increasing event times with bounded jitter backwards, cut into batches. */
const streamArb = (keys: string[], distinct: string[]): fc.Arbitrary<Ev[][]> =>
  fc
    .array(
      fc.record({
        key: fc.constantFrom(...keys),
        step: fc.integer({ min: 0, max: 8 }),
        jitter: fc.integer({ min: -40, max: 3 }),
        v: fc.integer({ min: 0, max: 9 }),
        d: fc.constantFrom(...distinct),
        cut: fc.boolean(),
      }),
      { minLength: 1, maxLength: 80 },
    )
    .map((raw) => {
      const batches: Ev[][] = [[]];
      let clock = 100;
      for (const r of raw) {
        clock += r.step;
        batches[batches.length - 1].push({
          key: r.key,
          ts: Math.max(0, clock + r.jitter),
          v: r.v,
          d: r.d,
        });
        if (r.cut) batches.push([]);
      }
      return batches;
    });

/** The aggregate recomputed from scratch: what the incremental one must equal. */
function brute(evs: readonly Arrived[]): WindowStats<Ev> {
  let last = evs[0];
  for (const a of evs)
    if (a.e.ts > last.e.ts || (a.e.ts === last.e.ts && a.seq > last.seq)) last = a;
  return {
    count: evs.length,
    sum: evs.reduce((s, a) => s + a.e.v, 0),
    distinct: new Set(evs.map((a) => a.e.d)).size,
    distinctExact: true,
    firstTs: Math.min(...evs.map((a) => a.e.ts)),
    lastTs: last.e.ts,
    last: last.e,
  };
}

const stats = (exactLimit = 64) =>
  windowStats<Ev>({ amountOf: (e) => e.v, distinctOf: (e) => e.d, exactLimit, precision: 10 });

describe('aligned windows against a brute-force recomputation', () => {
  const configArb = fc
    .record({
      size: fc.integer({ min: 1, max: 30 }),
      slidePct: fc.integer({ min: 1, max: 100 }),
      hopping: fc.boolean(),
      ooo: fc.integer({ min: 0, max: 20 }),
      lateness: fc.integer({ min: 0, max: 20 }),
      emitOnClose: fc.boolean(),
    })
    .map((c) => ({
      ...c,
      slide: c.hopping ? Math.max(1, Math.floor((c.size * c.slidePct) / 100)) : c.size,
    }));

  it('every result equals the recomputed aggregate of the events accepted into that window', () => {
    fc.assert(
      fc.property(configArb, streamArb(['a', 'b', 'c'], ['x', 'y', 'z', 'w']), (cfg, batches) => {
        const spec: WindowSpec = cfg.hopping
          ? { kind: 'hopping', size: cfg.size, slide: cfg.slide }
          : { kind: 'tumbling', size: cfg.size };
        const engine = new WindowEngine<string, Ev, WindowStatsAcc<Ev>, WindowStats<Ev>>({
          window: spec,
          aggregator: stats(),
          outOfOrdernessMs: cfg.ooo,
          allowedLatenessMs: cfg.lateness,
          emitOnClose: cfg.emitOnClose,
        });
        let wm = -Infinity;
        let maxTs = -Infinity;
        let seq = 0;
        let total = 0;
        const accepted = new Map<string, Arrived[]>();
        const expectedLate: Ev[] = [];
        const lastEmitted = new Map<string, { count: number; final: boolean }>();

        const check = (outs: WindowOutput<string, Ev, WindowStats<Ev>>[]): void => {
          for (const o of outs) {
            if (o.kind === 'late') {
              expect(o.value).toBe(expectedLate.shift());
              continue;
            }
            const id = `${o.key}|${o.start}`;
            expect(o.end - o.start).toBe(cfg.size);
            expect(wm).toBeGreaterThanOrEqual(o.end); // never early
            expect(o.final).toBe(wm >= o.end + cfg.lateness);
            expect(o.agg).toEqual(brute(accepted.get(id)!));
            const prev = lastEmitted.get(id);
            expect(prev?.final ?? false).toBe(false); // nothing after the final result
            if (o.firing === 'close') {
              expect(cfg.emitOnClose).toBe(true);
              expect(o.agg.count).toBe(prev!.count);
            } else if (prev) expect(o.agg.count).toBeGreaterThan(prev.count); // updates only on change
            lastEmitted.set(id, { count: o.agg.count, final: o.final });
          }
        };

        for (const batch of batches) {
          for (const e of batch) {
            total++;
            const a = { e, seq: seq++ };
            let took = false;
            const lastStart = Math.floor(e.ts / cfg.slide) * cfg.slide;
            for (let s = lastStart; s > e.ts - cfg.size; s -= cfg.slide) {
              if (wm >= s + cfg.size + cfg.lateness) continue;
              const id = `${e.key}|${s}`;
              accepted.set(id, [...(accepted.get(id) ?? []), a]);
              took = true;
            }
            if (!took) expectedLate.push(e);
            expect(engine.add(e.key, e.ts, e)).toBe(took);
            maxTs = Math.max(maxTs, e.ts);
          }
          wm = Math.max(wm, maxTs - cfg.ooo);
          check(engine.advanceWatermark());
        }
        wm = Infinity;
        check(engine.flush());

        expect(expectedLate).toEqual([]);
        // Every window that took an event ended with a result holding all of them.
        for (const [id, evs] of accepted) expect(lastEmitted.get(id)?.count).toBe(evs.length);
        expect(lastEmitted.size).toBe(accepted.size);
        const s = engine.stats();
        expect(s.openWindows).toBe(0);
        expect(s.keys).toBe(0);
        expect(s.lateEvents + s.eventsAccepted).toBe(total);
        if (!cfg.hopping) {
          // Tumbling: every event is in exactly one final window or in the late output.
          let inWindows = 0;
          for (const v of lastEmitted.values()) inWindows += v.count;
          expect(inWindows + s.lateEvents).toBe(total);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('on-change hopping windows (panes) against a brute-force recomputation', () => {
  const empty: WindowStats<Ev> = stats().result(stats().create(0, 0));

  it('each result is exact, and the latest result at or before any end equals that window', () => {
    const cfgArb = fc.record({
      slide: fc.integer({ min: 1, max: 10 }),
      panes: fc.integer({ min: 1, max: 5 }),
      ooo: fc.integer({ min: 0, max: 20 }),
      lateness: fc.integer({ min: 0, max: 20 }),
    });
    fc.assert(
      fc.property(cfgArb, streamArb(['a', 'b', 'c'], ['x', 'y', 'z']), (cfg, batches) => {
        const size = cfg.slide * cfg.panes;
        const engine = new WindowEngine<string, Ev, WindowStatsAcc<Ev>, WindowStats<Ev>>({
          window: { kind: 'hopping', size, slide: cfg.slide, emit: 'on-change' },
          aggregator: stats(),
          outOfOrdernessMs: cfg.ooo,
          allowedLatenessMs: cfg.lateness,
        });
        let wm = -Infinity;
        let maxTs = -Infinity;
        let seq = 0;
        let total = 0;
        const accepted = new Map<string, Arrived[]>(); // "key|end"
        const expectedLate: Ev[] = [];
        const finals = new Set<string>();
        // The consumer: per key, end -> latest result for that end.
        const view = new Map<string, Map<number, WindowStats<Ev>>>();
        const truth = (key: string, end: number): WindowStats<Ev> => {
          const evs = accepted.get(`${key}|${end}`);
          return evs ? brute(evs) : empty;
        };

        const check = (outs: WindowOutput<string, Ev, WindowStats<Ev>>[]): void => {
          let prevEnd = -Infinity;
          for (const o of outs) {
            if (o.kind === 'late') {
              expect(o.value).toBe(expectedLate.shift());
              continue;
            }
            expect(o.end).toBeGreaterThanOrEqual(prevEnd); // results sorted by end
            prevEnd = o.end;
            expect(o.end - o.start).toBe(size);
            expect(wm).toBeGreaterThanOrEqual(o.end);
            expect(o.final).toBe(wm >= o.end + cfg.lateness);
            expect(o.agg).toEqual(truth(o.key, o.end));
            const id = `${o.key}|${o.end}`;
            expect(finals.has(id)).toBe(false);
            if (o.final) finals.add(id);
            const mine = view.get(o.key) ?? new Map<number, WindowStats<Ev>>();
            view.set(o.key, mine);
            mine.set(o.end, o.agg);
          }
        };

        for (const batch of batches) {
          for (const e of batch) {
            total++;
            const a = { e, seq: seq++ };
            let took = false;
            const pane = Math.floor(e.ts / cfg.slide) * cfg.slide;
            for (let end = pane + cfg.slide; end <= pane + size; end += cfg.slide) {
              if (wm >= end + cfg.lateness) continue;
              const id = `${e.key}|${end}`;
              accepted.set(id, [...(accepted.get(id) ?? []), a]);
              took = true;
            }
            if (!took) expectedLate.push(e);
            expect(engine.add(e.key, e.ts, e)).toBe(took);
            maxTs = Math.max(maxTs, e.ts);
          }
          wm = Math.max(wm, maxTs - cfg.ooo);
          check(engine.advanceWatermark());
        }
        wm = Infinity;
        check(engine.flush());

        expect(expectedLate).toEqual([]);
        for (const key of ['a', 'b', 'c']) {
          const mine = view.get(key) ?? new Map<number, WindowStats<Ev>>();
          const ends = [...mine.keys()].sort((x, y) => x - y);
          for (let end = 0; end <= 400 + size + cfg.slide; end += cfg.slide) {
            let seen = empty;
            for (const e of ends) if (e <= end) seen = mine.get(e)!;
            expect(seen).toEqual(truth(key, end));
          }
        }
        const st = engine.stats();
        expect(st.lateEvents + st.eventsAccepted).toBe(total);
        expect(st.openWindows).toBe(0);
        expect(st.keys).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('on-read hopping windows (panes) against a brute-force recomputation', () => {
  it('each window a batch changed is read exactly, nothing is emitted as windows slide, and closed panes are dropped', () => {
    const cfgArb = fc.record({
      slide: fc.integer({ min: 1, max: 10 }),
      panes: fc.integer({ min: 1, max: 5 }),
      ooo: fc.integer({ min: 0, max: 20 }),
      lateness: fc.integer({ min: 0, max: 20 }),
    });
    fc.assert(
      fc.property(cfgArb, streamArb(['a', 'b', 'c'], ['x', 'y', 'z']), (cfg, batches) => {
        const size = cfg.slide * cfg.panes;
        const engine = new WindowEngine<string, Ev, WindowStatsAcc<Ev>, WindowStats<Ev>>({
          window: { kind: 'hopping', size, slide: cfg.slide, emit: 'on-read' },
          aggregator: stats(),
          outOfOrdernessMs: cfg.ooo,
          allowedLatenessMs: cfg.lateness,
        });
        let wm = -Infinity;
        let maxTs = -Infinity;
        let seq = 0;
        let total = 0;
        const accepted = new Map<string, Arrived[]>(); // "key|end"
        // What a reader holds: per "key|end", the latest value read for that window.
        const held = new Map<string, number>();
        for (const batch of batches) {
          const span = new Map<string, { min: number; max: number }>();
          for (const e of batch) {
            total++;
            const a = { e, seq: seq++ };
            let took = false;
            const pane = Math.floor(e.ts / cfg.slide) * cfg.slide;
            for (let end = pane + cfg.slide; end <= pane + size; end += cfg.slide) {
              if (wm >= end + cfg.lateness) continue;
              const id = `${e.key}|${end}`;
              accepted.set(id, [...(accepted.get(id) ?? []), a]);
              took = true;
            }
            expect(engine.add(e.key, e.ts, e)).toBe(took);
            if (took) {
              const s = span.get(e.key);
              span.set(e.key, {
                min: Math.min(s?.min ?? e.ts, e.ts),
                max: Math.max(s?.max ?? e.ts, e.ts),
              });
            }
            maxTs = Math.max(maxTs, e.ts);
          }
          for (const [key, { min, max }] of span) {
            const read = engine.windowsAtPanes(key, min, max);
            for (let i = 1; i < read.length; i++)
              expect(read[i].end).toBeGreaterThan(read[i - 1].end); // oldest first
            for (const w of read) {
              expect(w.end - w.start).toBe(size);
              const evs = accepted.get(`${key}|${w.end}`);
              expect(evs).toBeDefined(); // a window holding events of the key
              expect(w.agg).toEqual(brute(evs!));
              held.set(`${key}|${w.end}`, w.agg.count);
            }
          }
          wm = Math.max(wm, maxTs - cfg.ooo);
          // Sliding emits nothing; only events too late for every window come out.
          for (const o of engine.advanceWatermark()) expect(o.kind).toBe('late');
        }
        // Every window ending at a pane end of its key that the reader holds is up to date.
        for (const [id, count] of held) expect(count).toBe(accepted.get(id)!.length);
        for (const o of engine.flush()) expect(o.kind).toBe('late');
        const st = engine.stats();
        expect(st.lateEvents + st.eventsAccepted).toBe(total);
        expect(st.openWindows).toBe(0);
        expect(st.keys).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('session windows against a brute-force recomputation', () => {
  interface RefSession {
    start: number;
    end: number;
    evs: Arrived[];
  }

  it('results equal recomputed sessions; retractions leave each accepted event in exactly one session', () => {
    const cfgArb = fc.record({
      gap: fc.integer({ min: 1, max: 25 }),
      ooo: fc.integer({ min: 0, max: 20 }),
      lateness: fc.integer({ min: 0, max: 30 }),
      emitOnClose: fc.boolean(),
    });
    fc.assert(
      fc.property(cfgArb, streamArb(['a', 'b'], ['x', 'y', 'z']), (cfg, batches) => {
        const engine = new WindowEngine<string, Ev, WindowStatsAcc<Ev>, WindowStats<Ev>>({
          window: { kind: 'session', gap: cfg.gap },
          aggregator: stats(),
          outOfOrdernessMs: cfg.ooo,
          allowedLatenessMs: cfg.lateness,
          emitOnClose: cfg.emitOnClose,
        });
        let wm = -Infinity;
        let maxTs = -Infinity;
        let seq = 0;
        let total = 0;
        const live = new Map<string, RefSession[]>();
        const expectedLate: Ev[] = [];
        // What a consumer honouring retractions holds: key -> "start|end" -> count.
        const held = new Map<string, Map<string, number>>();

        const check = (outs: WindowOutput<string, Ev, WindowStats<Ev>>[]): void => {
          for (const o of outs) {
            if (o.kind === 'late') {
              expect(o.value).toBe(expectedLate.shift());
              continue;
            }
            expect(wm).toBeGreaterThanOrEqual(o.end);
            expect(o.final).toBe(wm >= o.end + cfg.lateness);
            const ref = (live.get(o.key) ?? []).find((r) => r.start === o.start && r.end === o.end);
            expect(ref).toBeDefined();
            expect(o.agg).toEqual(brute(ref!.evs));
            const mine = held.get(o.key) ?? new Map<string, number>();
            held.set(o.key, mine);
            for (const r of o.retracts ?? []) expect(mine.delete(`${r.start}|${r.end}`)).toBe(true);
            mine.set(`${o.start}|${o.end}`, o.agg.count);
          }
          for (const [k, rs] of live)
            live.set(
              k,
              rs.filter((r) => !(wm >= r.end + cfg.lateness)),
            );
        };

        for (const batch of batches) {
          for (const e of batch) {
            total++;
            const a = { e, seq: seq++ };
            const rs = live.get(e.key) ?? [];
            const touching = rs.filter((r) => r.start <= e.ts + cfg.gap && e.ts <= r.end);
            const start = Math.min(e.ts, ...touching.map((r) => r.start));
            const end = Math.max(e.ts + cfg.gap, ...touching.map((r) => r.end));
            const tooLate = touching.length === 0 && wm >= end + cfg.lateness;
            if (tooLate) expectedLate.push(e);
            else {
              const merged = { start, end, evs: [...touching.flatMap((r) => r.evs), a] };
              live.set(e.key, [...rs.filter((r) => !touching.includes(r)), merged]);
            }
            expect(engine.add(e.key, e.ts, e)).toBe(!tooLate);
            maxTs = Math.max(maxTs, e.ts);
          }
          wm = Math.max(wm, maxTs - cfg.ooo);
          check(engine.advanceWatermark());
        }
        wm = Infinity;
        check(engine.flush());

        expect(expectedLate).toEqual([]);
        let inSessions = 0;
        for (const m of held.values()) for (const c of m.values()) inSessions += c;
        const s = engine.stats();
        expect(inSessions + s.lateEvents).toBe(total);
        expect(s.openWindows).toBe(0);
        expect(s.keys).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('distinct counts', () => {
  it('switches from exact to a sketch within its error bound', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), {
          minLength: 0,
          maxLength: 3000,
        }),
        fc.integer({ min: 0, max: 100 }),
        (values, exactLimit) => {
          const dc = new DistinctCounter(10, exactLimit);
          for (const v of values) {
            dc.add(v);
            dc.add(v); // duplicates never count twice
          }
          const n = values.length;
          if (n <= exactLimit) {
            expect(dc.exact).toBe(true);
            expect(dc.estimate()).toBe(n);
          } else {
            // 5 standard errors: a wrong sketch fails this, an unlucky correct one practically never.
            const bound = Math.max(2, 5 * DistinctCounter.standardError(10) * n);
            expect(Math.abs(dc.estimate() - n)).toBeLessThanOrEqual(bound);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('merging equals counting the union (sketches are mergeable, not recomputed)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 6 }), { maxLength: 400 }),
        fc.array(fc.string({ maxLength: 6 }), { maxLength: 400 }),
        (xs, ys) => {
          const a = new DistinctCounter(10, 16);
          const b = new DistinctCounter(10, 16);
          const u = new DistinctCounter(10, 16);
          xs.forEach((x) => (a.add(x), u.add(x)));
          ys.forEach((y) => (b.add(y), u.add(y)));
          a.merge(b);
          expect(a.estimate()).toBe(u.estimate());
        },
      ),
      { numRuns: 100 },
    );
  });

  it('window results carry the sketch estimate once a window outgrows the exact set', () => {
    const engine = new WindowEngine({
      window: { kind: 'tumbling', size: 1000 },
      aggregator: stats(8),
    });
    for (let i = 0; i < 500; i++)
      engine.add('k', i, { key: 'k', ts: i, v: 1, d: `user-${i % 250}` });
    const [out] = engine.flush();
    expect(out.kind).toBe('window');
    if (out.kind !== 'window') return;
    expect(out.agg.distinctExact).toBe(false);
    expect(Math.abs(out.agg.distinct - 250)).toBeLessThanOrEqual(
      5 * DistinctCounter.standardError(10) * 250,
    );
  });
});
