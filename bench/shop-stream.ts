/**
 * Writes the load test's synthetic shop stream to a JSONL file, so the in-process graph
 * (`recpipe replay`) and the streaming job (`recpipe produce` + `recpipe run`) can be measured on
 * exactly the same events:
 *
 *   node dist/bench/shop-stream.js --events 200000 [--rate 2500] [--users 30000] [--items 8000]
 *     [--malformed 0.001] [--start 2026-01-01T00:00:00Z] [--seed N] --out FILE.jsonl
 *
 * Event time starts at --start and advances by 1/rate seconds per event, as if produced live.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { ShopStream } from '../pipeline/sim/shop-events.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}

async function main(): Promise<void> {
  const events = Number(arg('events', '200000'));
  const rate = Number(arg('rate', '2500'));
  const out = arg('out', '');
  const start = Date.parse(arg('start', '2026-01-01T00:00:00Z'));
  if (!out || !(events > 0) || !(rate > 0) || !Number.isFinite(start)) {
    process.stderr.write(
      'usage: node dist/bench/shop-stream.js --events N --out FILE (see header)\n',
    );
    process.exit(2);
  }
  const stream = new ShopStream({
    users: Number(arg('users', '30000')),
    items: Number(arg('items', '8000')),
    malformed: Number(arg('malformed', '0.001')),
    runId: arg('run-id', 'shop'),
    seed: Number(arg('seed', String(0x9e3779b9))),
  });
  const file = createWriteStream(out);
  for (let i = 0; i < events; i++) {
    const line = `${stream.next(Math.round(start + (i * 1000) / rate)).value}\n`;
    if (!file.write(line)) await once(file, 'drain');
  }
  file.end();
  await once(file, 'finish');
  process.stderr.write(`[shop-stream] ${events} events written to ${out}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
