import { ConfigError, loadConfig } from '../../config/load.js';
import { ownValue } from '../../models/core/own.js';
import { UsageError } from './args.js';

const USAGE = `recpipe — real-time recommendations and push decisions from a clickstream

usage: recpipe <command> [options]   (global: --config FILE)

  replay --input FILE [--format jsonl|online-retail] [--model NAME] [--eval prequential]
         [--k 10] [--limit N] [--json]      run the whole graph in-process, no services
  stack up|down|status [--json]             start / stop / report the local Kafka, Redis, ClickHouse
  produce --input FILE [--format F] [--topic T] [--partitions N] [--rate N]
                                            load a file into Kafka, one message per line
  run [--topic T] [--group G] [--http-port P]
                                            the streaming job (Kafka → graph → Redis/ClickHouse/Kafka)
  recs USER_ID [--json]                     the recommendations served for a user, read from Redis
  forget USER_ID... [--json]                erase users everywhere (stores, running jobs, snapshots)
  simulate [--users 20000] [--days 30] [--seed 1] [--seeds N] [--policy static|learned|both]
           [--log FILE] [--json]           the closed-loop synthetic shop: push policies compared
  evaluate-policy [--input FILE] [--policy SPEC]... [--json]
                                            off-policy estimates (IPS, SNIPS) of push policies
  describe [run|replay|follower] [--json]   the stages a record passes (source → … → commit)
`;

type Command = (args: string[], cfg: import('../../config/schema.js').Config) => Promise<number>;

/** Commands load lazily so `replay` never pulls in the Kafka client's native module. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  replay: async () => (await import('./replay-command.js')).replayCommand,
  stack: async () => (await import('./stack-command.js')).stackCommand,
  produce: async () => (await import('./produce-command.js')).produceCommand,
  run: async () => (await import('./run-command.js')).runCommand,
  recs: async () => (await import('./recs-command.js')).recsCommand,
  forget: async () => (await import('./forget-command.js')).forgetCommand,
  simulate: async () => (await import('./simulate-command.js')).simulateCommand,
  'evaluate-policy': async () =>
    (await import('./evaluate-policy-command.js')).evaluatePolicyCommand,
  describe: async () => (await import('./describe-command.js')).describeCommand,
};

export async function main(argv: string[]): Promise<number> {
  const { configFile, rest } = extractConfigFlag(argv);
  const [name, ...args] = rest;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  // own properties only: `recpipe constructor` is an unknown command, not Object()
  const load = ownValue(COMMANDS, name);
  if (!load) {
    process.stderr.write(`recpipe: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    const cfg = loadConfig(configFile);
    return await (
      await load()
    )(args, cfg);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`recpipe ${name}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`recpipe: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`recpipe ${name}: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

/** --config applies to every command, so it is taken out before the command parses its flags. */
function extractConfigFlag(argv: string[]): { configFile?: string; rest: string[] } {
  const rest: string[] = [];
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--config') configFile = argv[++i];
    else if (a.startsWith('--config=')) configFile = a.slice('--config='.length);
    else rest.push(a);
  }
  return configFile === undefined ? { rest } : { configFile, rest };
}
