import type { Config } from '../../config/schema.js';
import { redactUrlCredentials } from '../../sinks/security.js';
import { SERVICE_NAMES } from '../../stack/layout.js';
import { stackDown, stackStatus, stackUp } from '../../stack/stack.js';
import { parse, printJson, UsageError } from './args.js';

const USAGE = 'usage: recpipe stack up|down|status [--json]';

const progress = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

/**
 * `recpipe stack up|down|status [--json]`. Progress goes to stderr; with --json the last stdout line is
 * the endpoints object (CONTRACT §2) plus a `running` map, so scripts can both find and check the stack.
 */
export async function stackCommand(args: string[], cfg: Config): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean', default: false } }, true);
  if (positionals.length !== 1) throw new UsageError(USAGE);
  const action = positionals[0];
  const json = values.json === true;
  switch (action) {
    case 'up': {
      await stackUp(cfg, progress);
      return report(cfg, json);
    }
    case 'down': {
      await stackDown(cfg, progress);
      return report(cfg, json);
    }
    case 'status':
      return report(cfg, json);
    default:
      throw new UsageError(`unknown action "${action}"; ${USAGE}`);
  }
}

async function report(cfg: Config, json: boolean): Promise<number> {
  const { endpoints, running, pids } = await stackStatus(cfg);
  if (json) {
    printJson({ ...endpoints, running });
    return 0;
  }
  const rows = SERVICE_NAMES.map((name) => {
    const state = running[name]
      ? 'running'
      : pids[name] !== undefined
        ? 'not answering'
        : 'stopped';
    const pid = pids[name] !== undefined ? `pid ${pids[name]}` : '';
    // CONTRACT §5: the human-readable form masks passwords; --json keeps the full URLs
    const where = name === 'kafka' ? endpoints[name] : redactUrlCredentials(endpoints[name]);
    return `${name.padEnd(11)}${state.padEnd(15)}${where.padEnd(28)}${pid}`;
  });
  process.stdout.write(rows.join('\n') + '\n');
  return 0;
}
