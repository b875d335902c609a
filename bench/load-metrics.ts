/** Scraping the job's /metrics and /proc for bench/load.ts: Prometheus text, histograms, RSS. */
import { readFileSync } from 'node:fs';

export type Series = Record<string, number>;

/** Prometheus text → { 'name{labels}': value } for recpipe_ series (comments skipped). */
export function parseMetrics(text: string): Series {
  const s: Series = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('recpipe_')) continue;
    const i = line.lastIndexOf(' ');
    s[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return s;
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Quantile of a cumulative histogram (bucket le → count), interpolated like histogram_quantile. */
export function quantile(q: number, buckets: readonly [number, number][]): number {
  const total = buckets[buckets.length - 1]?.[1] ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1e-9, count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

export function buckets(s: Series, name: string, base?: Series): [number, number][] {
  const rows: [number, number][] = [];
  for (const [k, v] of Object.entries(s)) {
    if (!k.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(k)?.[1] ?? '+Inf';
    rows.push([le === '+Inf' ? Infinity : Number(le), v - (base?.[k] ?? 0)]);
  }
  return rows.sort((a, b) => a[0] - b[0]);
}

export const sum = (s: Series, prefix: string): number =>
  Object.entries(s).reduce(
    (n, [k, v]) => (k === prefix || k.startsWith(`${prefix}{`) ? n + v : n),
    0,
  );
