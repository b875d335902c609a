/**
 * Push simulation benchmark (issue 15, docs/push.md): the closed-loop synthetic shop with the
 * issue's defaults (20,000 users, 30 days), static vs learned policy over the same users, per
 * seed. Each seed's two reports are appended to a JSONL file as they finish, so the run can be
 * split into one short process per seed (bench/push-sim.sh takes the machine-wide lock per seed)
 * and resumed; `--summary` prints the table and writes the data of the plot.
 *
 *   npx tsc -p tsconfig.json
 *   node dist/bench/push-sim.js --seeds 1-20 [--users 20000] [--days 30] [--out bench/out/push-sim.jsonl]
 *   node dist/bench/push-sim.js --summary [--out ...]
 *
 * Progress on stderr; with --summary the last stdout line is one JSON object.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { simulate, type SimReport } from '../pipeline/sim/simulate.js';

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
const f3 = (x: number): string => x.toFixed(3);

function seedsOf(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || !Number.isInteger(a)) throw new Error(`bad --seeds ${spec}`);
    for (let s = a; s <= (b ?? a); s++) out.push(s);
  }
  return out;
}

function load(file: string): SimReport[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as SimReport);
}

function summary(reports: readonly SimReport[]): void {
  const bySeed = new Map<number, { static?: SimReport; learned?: SimReport }>();
  for (const r of reports) {
    const e = bySeed.get(r.seed) ?? {};
    e[r.policy] = r;
    bySeed.set(r.seed, e);
  }
  const rows: string[] = [];
  const pairs: { seed: number; s: SimReport; l: SimReport }[] = [];
  for (const [seed, e] of [...bySeed].sort((a, b) => a[0] - b[0]))
    if (e.static && e.learned) pairs.push({ seed, s: e.static, l: e.learned });
  for (const { seed, s, l } of pairs)
    rows.push(
      `| ${seed} | ${pct(s.opensPerPush)} | ${pct(l.opensPerPush)} | ${(100 * (l.opensPerPush / s.opensPerPush - 1)).toFixed(0)}% | ${s.pushesPerUser.toFixed(2)} | ${l.pushesPerUser.toFixed(2)} | ${pct(s.conversionsPerPush)} | ${pct(l.conversionsPerPush)} | ${f3(l.uplift.upliftPerUser)} [${f3(l.uplift.ciLow)}, ${f3(l.uplift.ciHigh)}] | ${f3(l.trueUplift)} | ${l.covered ? 'yes' : '**no**'} |`,
    );
  const mean = (f: (p: (typeof pairs)[number]) => number): number =>
    pairs.reduce((a, p) => a + f(p), 0) / Math.max(1, pairs.length);
  const covered = pairs.filter((p) => p.l.covered).length;
  const staticCovered = pairs.filter((p) => p.s.covered).length;
  const table = [
    '| seed | opens per push, static | learned | change | pushes per user, static | learned | conversions per push, static | learned | learned uplift per user (95% CI) | true uplift | covered |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |',
    ...rows,
    `| mean | ${pct(mean((p) => p.s.opensPerPush))} | ${pct(mean((p) => p.l.opensPerPush))} | ${(100 * (mean((p) => p.l.opensPerPush) / mean((p) => p.s.opensPerPush) - 1)).toFixed(0)}% | ${mean((p) => p.s.pushesPerUser).toFixed(2)} | ${mean((p) => p.l.pushesPerUser).toFixed(2)} | ${pct(mean((p) => p.s.conversionsPerPush))} | ${pct(mean((p) => p.l.conversionsPerPush))} | ${f3(mean((p) => p.l.uplift.upliftPerUser))} | ${f3(mean((p) => p.l.trueUplift))} | ${covered}/${pairs.length} |`,
  ].join('\n');
  process.stderr.write(`${table}\n\n`);
  process.stderr.write(
    `learned: uplift CI covers the true uplift in ${covered} of ${pairs.length} seeds (static: ${staticCovered}); ` +
      `hour hits ${pct(mean((p) => p.s.hourHitRate))} → ${pct(mean((p) => p.l.hourHitRate))}, ` +
      `channel hits ${pct(mean((p) => p.s.channelHitRate))} → ${pct(mean((p) => p.l.channelHitRate))}; ` +
      `${mean((p) => p.l.seconds + p.s.seconds).toFixed(0)} s per seed\n`,
  );
  process.stdout.write(
    `${JSON.stringify({
      seeds: pairs.length,
      covered,
      static_covered: staticCovered,
      table,
      points: pairs.map((p) => ({
        seed: p.seed,
        static_opens: p.s.opensPerPush,
        learned_opens: p.l.opensPerPush,
        static_ppu: p.s.pushesPerUser,
        learned_ppu: p.l.pushesPerUser,
        uplift: p.l.uplift.upliftPerUser,
        lo: p.l.uplift.ciLow,
        hi: p.l.uplift.ciHigh,
        truth: p.l.trueUplift,
        static_uplift: p.s.uplift.upliftPerUser,
        static_lo: p.s.uplift.ciLow,
        static_hi: p.s.uplift.ciHigh,
        static_truth: p.s.trueUplift,
      })),
    })}\n`,
  );
}

function main(): void {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '1-20' },
      users: { type: 'string', default: '20000' },
      days: { type: 'string', default: '30' },
      out: { type: 'string', default: 'bench/out/push-sim.jsonl' },
      summary: { type: 'boolean', default: false },
    },
  });
  mkdirSync(dirname(values.out), { recursive: true });
  if (values.summary) return summary(load(values.out));
  const done = new Set(load(values.out).map((r) => `${r.seed}/${r.policy}/${r.users}/${r.days}`));
  const users = Number(values.users);
  const days = Number(values.days);
  for (const seed of seedsOf(values.seeds)) {
    for (const policy of ['static', 'learned'] as const) {
      if (done.has(`${seed}/${policy}/${users}/${days}`)) continue;
      const r = simulate({
        policy,
        world: { users, days, seed },
        onDay: (d) =>
          process.stderr.write(`\r[push-sim] seed ${seed} ${policy}: day ${d + 1}/${days}  `),
      });
      appendFileSync(values.out, `${JSON.stringify(r)}\n`);
      process.stderr.write(
        `\r[push-sim] seed ${seed} ${policy}: ${r.seconds} s, opens per push ${pct(r.opensPerPush)}, ` +
          `uplift ${f3(r.uplift.upliftPerUser)} [${f3(r.uplift.ciLow)}, ${f3(r.uplift.ciHigh)}] vs true ${f3(r.trueUplift)}\n`,
      );
    }
  }
}

main();
