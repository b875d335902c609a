import type { Config } from '../../config/schema.js';
import { describeTopology, formatTopology, type Runtime } from '../topology.js';
import { UsageError } from './args.js';

const RUNTIMES: readonly Runtime[] = ['run', 'replay', 'follower'];

/** `recpipe describe [run|replay|follower] [--json]`: the stages a record passes, all by default. */
export async function describeCommand(args: string[], _cfg: Config): Promise<number> {
  const json = args.includes('--json');
  const named = args.filter((a) => a !== '--json');
  for (const a of named)
    if (!RUNTIMES.includes(a as Runtime))
      throw new UsageError(`unknown runtime "${a}" (${RUNTIMES.join('|')})`);
  const runtimes = named.length ? (named as Runtime[]) : RUNTIMES;
  if (json) {
    const out = runtimes.map((r) => ({ runtime: r, stages: describeTopology(r) }));
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else process.stdout.write(runtimes.map(formatTopology).join('\n'));
  return 0;
}
