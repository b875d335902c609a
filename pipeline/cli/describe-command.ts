import type { Config } from '../../config/schema.js';
import { describeTopology, formatTopology, type Runtime } from '../topology.js';
import { UsageError } from './args.js';

/** `recpipe describe [run|replay] [--json]`: the stages a record passes, both runtimes by default. */
export async function describeCommand(args: string[], _cfg: Config): Promise<number> {
  const json = args.includes('--json');
  const named = args.filter((a) => a !== '--json');
  for (const a of named)
    if (a !== 'run' && a !== 'replay') throw new UsageError(`unknown runtime "${a}" (run|replay)`);
  const runtimes: Runtime[] = named.length ? (named as Runtime[]) : ['run', 'replay'];
  if (json) {
    const out = runtimes.map((r) => ({ runtime: r, stages: describeTopology(r) }));
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else process.stdout.write(runtimes.map(formatTopology).join('\n'));
  return 0;
}
