#!/usr/bin/env node
// Thin launcher so `node bin/recpipe.js ARGS` behaves like `npx recpipe ARGS` in one process.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const entry = join(root, 'dist', 'pipeline', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write(
    'recpipe is not built yet: run `npm run build` (or `npm run demo`, which sets up everything).\n',
  );
  process.exit(2);
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
