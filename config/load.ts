import { readFileSync } from 'node:fs';
import { configSchema, type Config } from './schema.js';

/**
 * Config = defaults ← JSON file ← environment. Env names are RECPIPE_ + the path in upper snake case,
 * e.g. RECPIPE_KAFKA_BROKERS, RECPIPE_REDIS_URL, RECPIPE_PIPELINE_BATCH_MAX_MESSAGES.
 * This is the only module that reads process.env.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): Config {
  const fromFile = file ? readJson(file) : {};
  const merged = applyEnv(fromFile, env);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(
      `invalid configuration${file ? ` in ${file}` : ''}:\n${lines.join('\n')}`,
    );
  }
  return parsed.data;
}

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** Walks the schema's known leaves so an env var can only set a field that exists. */
function applyEnv(base: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const defaults = configSchema.parse({}) as unknown as Record<string, unknown>;
  const out = structuredClone(base);
  const visit = (
    template: Record<string, unknown>,
    target: Record<string, unknown>,
    path: string[],
  ): void => {
    for (const [k, v] of Object.entries(template)) {
      const p = [...path, k];
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        // trusted-key: keys walk the config schema, never the input
        const child = (target[k] ??= {}) as Record<string, unknown>;
        visit(v as Record<string, unknown>, child, p);
        continue;
      }
      const name = `RECPIPE_${p.map(snake).join('_')}`;
      // trusted-key: env names are built from the schema
      const raw = env[name];
      if (raw === undefined) continue;
      // trusted-key: keys walk the config schema, never the input
      target[k] =
        typeof v === 'number'
          ? Number(raw)
          : typeof v === 'boolean'
            ? raw === 'true' || raw === '1'
            : raw;
    }
  };
  visit(defaults, out, []);
  return out;
}
