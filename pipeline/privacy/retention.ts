import type { Config } from '../../config/schema.js';
import { createClickHouseExec } from '../../sinks/clickhouse-erase.js';
import { applyRetention } from '../../sinks/clickhouse-retention.js';
import type { Logger } from '../logger.js';

/**
 * ClickHouse retention in `run`: every `privacy.retention.intervalMs` (first after one interval),
 * rows older than their table's retention are deleted (sinks/clickhouse-retention.ts). Every
 * instance of a group runs it; the passes are idempotent (a second finds nothing to delete).
 */
export function startRetention(
  cfg: Config,
  log: Pick<Logger, 'info' | 'warn'>,
): () => Promise<void> {
  const every = cfg.privacy.retention.intervalMs;
  if (every === 0) return () => Promise.resolve();
  const ch = createClickHouseExec(cfg);
  let running: Promise<void> | undefined;
  const pass = async (): Promise<void> => {
    try {
      const deleted = await applyRetention(ch, cfg.clickhouse.database, cfg.privacy.retention.days);
      const rows = [...deleted].filter(([, n]) => n > 0);
      if (rows.length > 0) log.info({ deleted: Object.fromEntries(rows) }, 'retention pass');
    } catch (err) {
      log.warn({ err: String(err) }, 'retention pass failed; the next one retries');
    }
  };
  const timer = setInterval(() => {
    running ??= pass().finally(() => (running = undefined));
  }, every);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
    await ch.close();
  };
}
