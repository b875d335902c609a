import { existsSync } from 'node:fs';
import type { Config } from '../../config/schema.js';
import {
  evaluatePolicy,
  parsePolicy,
  type LoggedDecision,
  type OffPolicyResult,
} from '../../push/ips.js';
import { TABLES, quoteIdent } from '../../sinks/clickhouse-schema.js';
import { readInputRecords } from '../formats/input-records.js';
import { parse, printJson, UsageError } from './args.js';

const DEFAULT_POLICIES = ['logged', 'uniform', 'variant=A', 'variant=B', 'variant=C'];

/** A logged row (ClickHouse query or simulate --log line) → LoggedDecision, or undefined. */
export function toLogged(v: unknown): LoggedDecision | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const num = (x: unknown): number => (typeof x === 'string' ? Number(x) : (x as number));
  const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
  const propensity = num(o.propensity);
  const variantPropensity = num(o.variant_propensity);
  const opened = num(o.opened);
  const converted = num(o.converted);
  const trigger = str(o.trigger);
  const channel = str(o.channel);
  const variant = str(o.variant);
  if (
    trigger === undefined ||
    channel === undefined ||
    variant === undefined ||
    ![propensity, variantPropensity, opened, converted].every(Number.isFinite) ||
    propensity < 0 ||
    propensity > 1
  )
    return undefined;
  const trueOpen = Array.isArray(o.true_open) && o.true_open.every((x) => typeof x === 'number');
  return {
    trigger,
    locale: str(o.locale) ?? '',
    channel,
    variant,
    propensity,
    variantPropensity,
    opened: opened > 0 ? 1 : 0,
    converted: converted > 0 ? 1 : 0,
    ...(trueOpen && { trueOpen: o.true_open as number[] }),
  };
}

/** Treated sent pushes with whether they were opened (or clicked) and converted. */
export function loggedPushesSql(db: string): string {
  const d = quoteIdent(db);
  return `SELECT n.push_id AS push_id, trigger, locale, channel, variant, propensity,
       variant_propensity, opened, converted
FROM (
  SELECT push_id, trigger, locale, channel, variant, propensity, variant_propensity
  FROM ${d}.${TABLES.pushNotifications} FINAL WHERE decision = 'sent' AND holdout = 0
) AS n
ANY LEFT JOIN (
  SELECT push_id, max(kind != 'purchase') AS opened, max(kind = 'purchase') AS converted
  FROM ${d}.${TABLES.pushOutcomes} FINAL GROUP BY push_id
) AS o USING push_id`;
}

const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : 'n/a');
const ci = (e: { value: number; ciLow: number; ciHigh: number }): string =>
  `${pct(e.value)} [${pct(e.ciLow)}, ${pct(e.ciHigh)}]`;

/**
 * Off-policy evaluation of candidate push policies from logged decisions: ClickHouse's
 * `push_notifications` and `push_outcomes` by default, or a JSONL file (`simulate --log`).
 */
export async function evaluatePolicyCommand(args: string[], cfg: Config): Promise<number> {
  const { values } = parse(args, {
    input: { type: 'string' },
    policy: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
  });
  const policies = (values.policy ?? DEFAULT_POLICIES).map((p) => {
    try {
      return parsePolicy(p);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  });
  const rows: LoggedDecision[] = [];
  let skipped = 0;
  if (values.input !== undefined) {
    if (!existsSync(values.input)) throw new UsageError(`input file not found: ${values.input}`);
    for await (const rec of readInputRecords(values.input, 'jsonl')) {
      if (rec.kind !== 'message') continue;
      let v: unknown;
      try {
        v = JSON.parse(typeof rec.value === 'string' ? rec.value : rec.value.toString('utf8'));
      } catch {
        v = undefined;
      }
      const d = toLogged(v);
      if (d) rows.push(d);
      else skipped++;
    }
  } else {
    const { createClickHouseSink } = await import('../../sinks/clickhouse.js');
    const ch = createClickHouseSink(cfg);
    try {
      for (const r of await ch.query<unknown>(loggedPushesSql(ch.database))) {
        const d = toLogged(r);
        if (d) rows.push(d);
        else skipped++;
      }
    } finally {
      await ch.close();
    }
  }
  const results: OffPolicyResult[] = policies.map((p) => evaluatePolicy(rows, p));
  if (values.json) {
    printJson({ logged: rows.length, skipped, results });
    return 0;
  }
  const lines = [
    `${rows.length} logged pushes${skipped > 0 ? ` (${skipped} rows skipped)` : ''}; 95% CIs`,
    '',
    '| policy | effective n | unsupported rows | opens per push (IPS) | (SNIPS) | conversions per push (IPS) | (SNIPS) | true opens |',
    '| --- | ---: | ---: | --- | --- | --- | --- | ---: |',
    ...results.map(
      (r) =>
        `| ${r.policy} | ${Math.round(r.effectiveN)} | ${r.unsupported > 0 ? `${r.unsupported} (biased)` : 0} | ${ci(r.openIps)} | ${ci(r.openSnips)} | ${ci(r.conversionIps)} | ${ci(r.conversionSnips)} | ${r.trueOpen !== undefined ? pct(r.trueOpen) : ''} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
