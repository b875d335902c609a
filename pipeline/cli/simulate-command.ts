import { createWriteStream, type WriteStream } from 'node:fs';
import type { Config } from '../../config/schema.js';
import { simulate, type SimReport } from '../sim/simulate.js';
import { DEFAULT_WORLD } from '../sim/world.js';
import { intOption, parse, printJson, UsageError } from './args.js';

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
const f3 = (x: number): string => x.toFixed(3);

export function simulationTable(reports: readonly SimReport[]): string {
  return [
    '| seed | policy | pushes per user | opens per push | conversions per push | at preferred hour | on preferred channel | uplift per user (95% CI) | true uplift | covered |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |',
    ...reports.map(
      (r) =>
        `| ${r.seed} | ${r.policy} | ${r.pushesPerUser.toFixed(2)} | ${pct(r.opensPerPush)} | ${pct(r.conversionsPerPush)} | ${pct(r.hourHitRate)} | ${pct(r.channelHitRate)} | ${f3(r.uplift.upliftPerUser)} [${f3(r.uplift.ciLow)}, ${f3(r.uplift.ciHigh)}] | ${f3(r.trueUplift)} | ${r.covered ? 'yes' : 'no'} |`,
    ),
  ].join('\n');
}

/**
 * `recpipe simulate`: the closed-loop synthetic shop (pipeline/sim/) through the real graph, the
 * static and the learned push policy over the same users, per seed. Defaults are issue 15's
 * (20,000 users, 30 days); `--log FILE` writes every sent push with its outcome for
 * `recpipe evaluate-policy --input FILE`.
 */
export async function simulateCommand(args: string[], cfg: Config): Promise<number> {
  const { values } = parse(args, {
    users: { type: 'string' },
    days: { type: 'string' },
    seed: { type: 'string' },
    seeds: { type: 'string' },
    policy: { type: 'string', default: 'both' },
    model: { type: 'string', default: 'popular' },
    log: { type: 'string' },
    json: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  });
  const users = intOption(values.users, 'users', 10) ?? DEFAULT_WORLD.users;
  const days = intOption(values.days, 'days', 1) ?? DEFAULT_WORLD.days;
  const seed = intOption(values.seed, 'seed', 0) ?? DEFAULT_WORLD.seed;
  const seeds = intOption(values.seeds, 'seeds', 1) ?? 1;
  const policies =
    values.policy === 'both' ? (['static', 'learned'] as const) : ([values.policy] as const);
  for (const p of policies)
    if (p !== 'static' && p !== 'learned')
      throw new UsageError('--policy must be static, learned or both');
  let log: WriteStream | undefined;
  if (values.log !== undefined) log = createWriteStream(values.log);
  const reports: SimReport[] = [];
  // The config's push section applies, except what the comparison itself varies.
  const { policy: _p, enabled: _e, ...push } = cfg.push;
  try {
    for (let s = seed; s < seed + seeds; s++) {
      for (const policy of policies as readonly ('static' | 'learned')[]) {
        const r = simulate({
          policy,
          world: { users, days, seed: s },
          push,
          model: values.model,
          ...(!values.quiet && {
            onDay: (d: number) =>
              process.stderr.write(`\rsimulate seed ${s} ${policy}: day ${d + 1}/${days}   `),
          }),
          ...(log && {
            onSent: (row) => log?.write(`${JSON.stringify({ seed: s, policy, ...row })}\n`),
          }),
        });
        reports.push(r);
        if (!values.quiet)
          process.stderr.write(
            `\rsimulate seed ${s} ${policy}: ${r.events} events in ${r.seconds} s, opens per push ${pct(r.opensPerPush)}\n`,
          );
      }
    }
  } finally {
    if (log) await new Promise<void>((resolve) => log?.end(resolve));
  }
  const covered = reports.filter((r) => r.policy === 'learned' && r.covered).length;
  const learnedRuns = reports.filter((r) => r.policy === 'learned').length;
  if (values.json) {
    printJson({
      users,
      days,
      seeds,
      reports,
      learned_uplift_covered: covered,
      learned_runs: learnedRuns,
    });
  } else {
    process.stdout.write(`${simulationTable(reports)}\n`);
    if (learnedRuns > 0)
      process.stdout.write(
        `\nlearned policy: uplift CI covers the true uplift in ${covered} of ${learnedRuns} seeds\n`,
      );
  }
  return 0;
}
