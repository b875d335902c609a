import { existsSync } from 'node:fs';
import type { Config } from '../../config/schema.js';
import { formatFromFileName, INPUT_FORMATS, type InputFormat } from '../formats/read-lines.js';
import { RECOMMENDER_NAMES } from '../../models/registry.js';
import { replayModelOptions } from '../runtime/job-model.js';
import { replay } from '../runtime/replay.js';
import { intOption, parse, printJson, UsageError } from './args.js';

export async function replayCommand(args: string[], cfg: Config): Promise<number> {
  const { values } = parse(args, {
    input: { type: 'string' },
    format: { type: 'string' },
    model: { type: 'string' },
    eval: { type: 'string' },
    k: { type: 'string' },
    limit: { type: 'string' },
    items: { type: 'string' },
    json: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  });
  if (!values.input) throw new UsageError('replay needs --input FILE');
  if (!existsSync(values.input)) throw new UsageError(`input file not found: ${values.input}`);
  const format = (values.format ?? formatFromFileName(values.input)) as InputFormat;
  if (!INPUT_FORMATS.includes(format))
    throw new UsageError(`--format must be one of ${INPUT_FORMATS.join(', ')}`);
  if (values.eval !== undefined && values.eval !== 'prequential') {
    throw new UsageError('--eval supports only "prequential"');
  }
  const model = values.model ?? cfg.pipeline.model;
  if (!(RECOMMENDER_NAMES as readonly string[]).includes(model)) {
    throw new UsageError(`unknown --model "${model}": one of ${RECOMMENDER_NAMES.join(', ')}`);
  }
  const limit = intOption(values.limit, 'limit', 1);
  if (values.items !== undefined && !existsSync(values.items))
    throw new UsageError(`items file not found: ${values.items}`);
  const { summary, sink } = await replay({
    input: values.input,
    format,
    model,
    modelOptions: replayModelOptions(cfg),
    evaluate: values.eval === 'prequential',
    k: intOption(values.k, 'k', 1) ?? 10,
    topK: cfg.pipeline.topK,
    ...(limit !== undefined && { limit }),
    batchSize: cfg.pipeline.batchMaxMessages,
    dedupeCapacity: cfg.pipeline.dedupeCapacity,
    maxFutureSkewMs: cfg.pipeline.maxFutureSkewMs,
    limits: cfg.limits,
    progress: !values.quiet,
    push: cfg.push,
    ...(cfg.privacy.userIdHashKey && { userIdHashKey: cfg.privacy.userIdHashKey }),
    policy: cfg.ranking,
    ...(values.items !== undefined && { items: values.items }),
  });
  if (values.json) {
    printJson(summary);
  } else {
    const lines = Object.entries(summary)
      .filter(([k]) => k !== 'series')
      .map(([k, v]) => `  ${k.padEnd(20)} ${typeof v === 'object' ? JSON.stringify(v) : v}`);
    process.stdout.write(`replay summary\n${lines.join('\n')}\n`);
    const example = sink.latestRecommendations.values().next();
    if (!example.done) {
      const r = example.value;
      process.stdout.write(`\nexample: recommendations for user ${r.userId}\n`);
      for (const it of r.items.slice(0, 5))
        process.stdout.write(`  ${it.itemId.padEnd(12)} ${it.score.toFixed(4)}  ${it.reason}\n`);
    }
  }
  return 0;
}
