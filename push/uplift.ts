/**
 * The uplift estimators of docs/push.md, the same arithmetic as the ClickHouse views
 * `push_uplift` and `push_uplift_total` (sinks/clickhouse-schema.ts), for the simulator and for
 * checking the SQL against. Intent to treat: eligible users are those with any decision row,
 * treated or held out by their rows' `holdout`; nothing is conditioned on what was finally sent.
 */
export interface DecisionFact {
  readonly userId: string;
  readonly trigger: string;
  readonly ts: number;
  readonly holdout: boolean;
}

export interface PurchaseFact {
  readonly userId: string;
  readonly ts: number;
}

export interface UpliftTotal {
  readonly treatedUsers: number;
  readonly holdoutUsers: number;
  /** Raw purchases per eligible user after their first decision, per group. */
  readonly treatedMean: number;
  readonly holdoutMean: number;
  /**
   * Incremental purchases per eligible user, adjusted for exposure (days from the first decision
   * to the end of the data) by Lin's regression estimator, with its 95 % CI.
   */
  readonly upliftPerUser: number;
  readonly se: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly incrementalConversions: number;
}

export interface UpliftCell {
  readonly trigger: string;
  /** UTC day, YYYY-MM-DD. */
  readonly day: string;
  readonly treatedUsers: number;
  readonly treatedConversions: number;
  readonly holdoutUsers: number;
  readonly holdoutConversions: number;
  readonly uplift: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly incrementalConversions: number;
}

const Z95 = 1.96;

function purchasesByUser(purchases: readonly PurchaseFact[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const p of purchases) {
    const list = m.get(p.userId);
    if (list) list.push(p.ts);
    else m.set(p.userId, [p.ts]);
  }
  return m;
}

interface Moments {
  n: number;
  y: number;
  x: number;
  yy: number;
  xx: number;
  xy: number;
}

const moments = (): Moments => ({ n: 0, y: 0, x: 0, yy: 0, xx: 0, xy: 0 });

/**
 * Purchases per eligible user after their first decision, treated minus holdout. Users whose
 * first decision came earlier had longer to buy, and chance can give one group earlier first
 * decisions than the other; regressing on that exposure within each group (Lin 2013: separate
 * slopes, centred on the pooled mean) removes this from the estimate and its variance without
 * touching its expectation, since exposure is fixed before any push. `end` defaults to the
 * latest decision or purchase.
 */
export function upliftTotal(
  decisions: readonly DecisionFact[],
  purchases: readonly PurchaseFact[],
  end?: number,
): UpliftTotal {
  const first = new Map<string, { ts: number; holdout: boolean }>();
  let last = -Infinity;
  for (const d of decisions) {
    last = Math.max(last, d.ts);
    const f = first.get(d.userId);
    if (!f) first.set(d.userId, { ts: d.ts, holdout: d.holdout });
    else {
      f.ts = Math.min(f.ts, d.ts);
      f.holdout ||= d.holdout;
    }
  }
  for (const p of purchases) last = Math.max(last, p.ts);
  const until = end ?? last;
  const bought = purchasesByUser(purchases);
  const g = [moments(), moments()];
  for (const [u, f] of first) {
    let y = 0;
    for (const ts of bought.get(u) ?? []) if (ts >= f.ts) y++;
    const x = (until - f.ts) / 86_400_000;
    const m = g[f.holdout ? 1 : 0] as Moments;
    m.n++;
    m.y += y;
    m.x += x;
    m.yy += y * y;
    m.xx += x * x;
    m.xy += x * y;
  }
  const [t, h] = g as [Moments, Moments];
  const pooledX = (t.x + h.x) / (t.n + h.n);
  const fit = (m: Moments): { adj: number; mean: number; resid: number } => {
    const my = m.y / m.n;
    const mx = m.x / m.n;
    const sxx = (m.xx - m.n * mx * mx) / (m.n - 1);
    const sxy = (m.xy - m.n * mx * my) / (m.n - 1);
    const syy = (m.yy - m.n * my * my) / (m.n - 1);
    const beta = sxx > 0 ? sxy / sxx : 0;
    return { adj: my - beta * (mx - pooledX), mean: my, resid: Math.max(0, syy - beta * sxy) };
  };
  const a = fit(t);
  const b = fit(h);
  const upliftPerUser = a.adj - b.adj;
  const se = Math.sqrt(a.resid / t.n + b.resid / h.n);
  return {
    treatedUsers: t.n,
    holdoutUsers: h.n,
    treatedMean: a.mean,
    holdoutMean: b.mean,
    upliftPerUser,
    se,
    ciLow: upliftPerUser - Z95 * se,
    ciHigh: upliftPerUser + Z95 * se,
    incrementalConversions: upliftPerUser * t.n,
  };
}

/** Per trigger and UTC day: conversion within `windowMs` after the first decision. */
export function upliftByTriggerDay(
  decisions: readonly DecisionFact[],
  purchases: readonly PurchaseFact[],
  windowMs = 86_400_000,
): UpliftCell[] {
  const first = new Map<
    string,
    { u: string; trigger: string; day: string; ts: number; holdout: boolean }
  >();
  for (const d of decisions) {
    const day = new Date(d.ts).toISOString().slice(0, 10);
    const k = `${d.userId}\u0000${d.trigger}\u0000${day}`;
    const f = first.get(k);
    if (!f) first.set(k, { u: d.userId, trigger: d.trigger, day, ts: d.ts, holdout: d.holdout });
    else {
      f.ts = Math.min(f.ts, d.ts);
      f.holdout ||= d.holdout;
    }
  }
  const bought = purchasesByUser(purchases);
  const cells = new Map<
    string,
    { trigger: string; day: string; n: [number, number]; c: [number, number] }
  >();
  for (const f of first.values()) {
    const conv = (bought.get(f.u) ?? []).some((ts) => ts >= f.ts && ts < f.ts + windowMs);
    const k = `${f.trigger}\u0000${f.day}`;
    let cell = cells.get(k);
    if (!cell) cells.set(k, (cell = { trigger: f.trigger, day: f.day, n: [0, 0], c: [0, 0] }));
    const g = f.holdout ? 1 : 0;
    cell.n[g] += 1;
    if (conv) cell.c[g] += 1;
  }
  return [...cells.values()]
    .sort((a, b) =>
      a.trigger === b.trigger ? a.day.localeCompare(b.day) : a.trigger.localeCompare(b.trigger),
    )
    .map((c) => {
      const pt = c.c[0] / c.n[0];
      const ph = c.n[1] > 0 ? c.c[1] / c.n[1] : NaN;
      const uplift = pt - ph;
      const se = Math.sqrt((pt * (1 - pt)) / c.n[0] + (ph * (1 - ph)) / c.n[1]);
      return {
        trigger: c.trigger,
        day: c.day,
        treatedUsers: c.n[0],
        treatedConversions: c.c[0],
        holdoutUsers: c.n[1],
        holdoutConversions: c.c[1],
        uplift,
        ciLow: uplift - Z95 * se,
        ciHigh: uplift + Z95 * se,
        incrementalConversions: uplift * c.n[0],
      };
    });
}
