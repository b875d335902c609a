import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Metrics } from './metrics.js';

/**
 * Samples how long the event loop was blocked: every `intervalMs`, the longest delay seen in that
 * interval goes into `recpipe_event_loop_lag_seconds` (a histogram, so Grafana can show p99.9
 * over any range) and `recpipe_event_loop_lag_max_seconds` (the last interval's worst). Node's
 * own histogram resolves 10 ms here; a stall of a second shows as one sample of about a second.
 */
export function startEventLoopLag(metrics: Metrics, intervalMs = 1_000): () => void {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const timer = setInterval(() => {
    // the delay of the timer itself is part of the lag: nothing to subtract
    const max = h.max / 1e9;
    h.reset();
    if (!Number.isFinite(max) || max <= 0) return;
    metrics.eventLoopLag.observe(max);
    metrics.eventLoopLagMax.set(max);
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    h.disable();
  };
}
