import { randomUUID } from 'node:crypto';
import type { Config } from '../../config/schema.js';
import { createClickHouseSink } from '../../sinks/clickhouse.js';
import { ensureTopics } from '../../kafka/admin.js';
import { createKafkaProducerSink } from '../../kafka/client.js';
import { auditErasure, eraseFromStores, openErasureStores } from '../privacy/erase-stores.js';
import { parse, printJson, UsageError } from './args.js';

const USAGE = 'usage: recpipe forget USER_ID... [--json]';
// eslint-disable-next-line no-control-regex -- the rule is about control characters
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Right to erasure (CONTRACT §5, docs/privacy.md): publishes one request per user on the
 * `privacy` topic, so every running job erases its in-memory state and snapshots, then erases
 * the stores itself (ClickHouse, Redis, snapshots) so the request completes with no job running
 * too, and records the audit row. Exit 0 once the stores hold nothing of the users.
 */
export async function forgetCommand(args: string[], cfg: Config): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean', default: false } }, true);
  if (positionals.length === 0) throw new UsageError(USAGE);
  for (const id of positionals)
    if (id.length === 0 || id.length > 128 || CONTROL.test(id))
      throw new UsageError(`not a user id (1..128 characters, no control characters): ${id}`);
  const userIds = [...new Set(positionals)];
  const req = { requestId: randomUUID(), userIds, requestedMs: Date.now() };
  const log = (msg: string): boolean => process.stderr.write(`${msg}\n`);

  let published = false;
  try {
    await ensureTopics(cfg, [{ name: cfg.privacy.topic, partitions: cfg.kafka.partitions }]);
    const producer = createKafkaProducerSink(cfg);
    await producer.connect();
    try {
      await producer.send(
        cfg.privacy.topic,
        userIds.map((u) => ({
          key: u,
          value: JSON.stringify({ user_id: u, ts: req.requestedMs, request_id: req.requestId }),
        })),
      );
      published = true;
    } finally {
      await producer.disconnect();
    }
  } catch (err) {
    // The stores are still erased below; a job started later scrubs its snapshot on restore.
    log(`forget: the request was not published to ${cfg.privacy.topic}: ${(err as Error).message}`);
  }

  const sink = createClickHouseSink(cfg);
  try {
    await sink.migrate();
  } finally {
    await sink.close();
  }
  const stores = openErasureStores(cfg);
  try {
    const removed = await eraseFromStores(cfg, stores, userIds);
    const completedMs = Date.now();
    await auditErasure(cfg, stores, req, 'forget', { ...removed, published }, completedMs);
    const summary = {
      forgotten: userIds,
      request_id: req.requestId,
      requested_ms: req.requestedMs,
      completed_ms: completedMs,
      seconds: (completedMs - req.requestedMs) / 1000,
      published,
      removed,
    };
    if (values.json) printJson(summary);
    else
      log(
        `forgot ${userIds.length} user(s), request ${req.requestId}: ${removed.redis_keys} Redis keys, ` +
          `${Object.values(removed.clickhouse_rows).reduce((a, b) => a + b, 0)} ClickHouse rows, ` +
          `${removed.snapshots_rewritten + removed.snapshots_deleted} snapshots, in ${summary.seconds} s`,
      );
    return 0;
  } finally {
    await stores.close();
  }
}
