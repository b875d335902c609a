import { existsSync } from 'node:fs';
import type { Config } from '../../config/schema.js';
import { ensureTopics } from '../../kafka/admin.js';
import { createKafkaProducerSink } from '../../kafka/client.js';
import { readInputRecords } from '../formats/input-records.js';
import {
  formatFromFileName,
  INPUT_FORMATS,
  newReadPosition,
  type InputFormat,
} from '../formats/read-lines.js';
import { Progress } from '../progress.js';
import { intOption, parse, printJson, UsageError } from './args.js';

/**
 * Loads a file into Kafka: one message per input line (or mapped CSV row), verbatim, malformed
 * ones included, keyed by user_id where one can be read. Creates the topic when missing.
 */
export async function produceCommand(args: string[], cfg: Config): Promise<number> {
  const { values } = parse(args, {
    input: { type: 'string' },
    format: { type: 'string' },
    topic: { type: 'string' },
    partitions: { type: 'string' },
    rate: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (!values.input) throw new UsageError('produce needs --input FILE');
  if (!existsSync(values.input)) throw new UsageError(`input file not found: ${values.input}`);
  const format = (values.format ?? formatFromFileName(values.input)) as InputFormat;
  if (!INPUT_FORMATS.includes(format))
    throw new UsageError(`--format must be one of ${INPUT_FORMATS.join(', ')}`);
  const topic = values.topic ?? cfg.kafka.inputTopic;
  const partitions = intOption(values.partitions, 'partitions', 1) ?? cfg.kafka.partitions;
  const rate = intOption(values.rate, 'rate', 1);
  const limit = intOption(values.limit, 'limit', 1);

  await ensureTopics(cfg, [{ name: topic, partitions }]);
  // catalog facts a format derives from its rows (online-retail titles) go to the items topic
  let catalogReady = false;
  const producer = createKafkaProducerSink(cfg);
  await producer.connect();
  const position = newReadPosition(values.input);
  const progress = new Progress(`produce → ${topic}`);
  const started = performance.now();
  let produced = 0;
  let filtered = 0;
  let catalog = 0;
  let chunk: { key?: string; value: string | Buffer }[] = [];
  let items: { key: string; value: string }[] = [];
  // With --rate, send in 100 ms slices so the rate holds at small scales too.
  const chunkSize = rate ? Math.max(1, Math.round(rate / 10)) : 2000;

  const flush = async (): Promise<void> => {
    if (items.length > 0) {
      // before the events they describe, so a consumer of both topics usually sees them first
      if (!catalogReady) {
        await ensureTopics(cfg, [{ name: cfg.kafka.itemsTopic, partitions }]);
        catalogReady = true;
      }
      await producer.send(cfg.kafka.itemsTopic, items);
      catalog += items.length;
      items = [];
    }
    if (chunk.length === 0) return;
    await producer.send(topic, chunk);
    produced += chunk.length;
    chunk = [];
    if (rate) {
      const due = started + (produced / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const s = (performance.now() - started) / 1000;
    progress.update(produced, `messages, ${Math.round(produced / Math.max(s, 1e-9))} msg/s`);
  };

  try {
    for await (const rec of readInputRecords(values.input, format, position)) {
      if (rec.kind === 'filtered') {
        filtered++;
        continue;
      }
      if (rec.kind === 'catalog') {
        items.push({ key: rec.key, value: rec.value });
        continue;
      }
      if (limit !== undefined && produced + chunk.length >= limit) break;
      chunk.push(rec.key === undefined ? { value: rec.value } : { key: rec.key, value: rec.value });
      if (chunk.length >= chunkSize) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  const seconds = (performance.now() - started) / 1000;
  progress.finish(produced, `messages in ${seconds.toFixed(1)} s`);
  const summary = {
    topic,
    produced,
    filtered,
    ...(catalog > 0 && { catalog_records: catalog, catalog_topic: cfg.kafka.itemsTopic }),
    seconds: Number(seconds.toFixed(3)),
    messages_per_s: Math.round(produced / Math.max(seconds, 1e-9)),
  };
  if (values.json) printJson(summary);
  else
    process.stdout.write(
      `produced ${produced} messages to ${topic} (${filtered} rows filtered)` +
        (catalog > 0 ? `, ${catalog} catalog records to ${cfg.kafka.itemsTopic}` : '') +
        '\n',
    );
  return 0;
}
