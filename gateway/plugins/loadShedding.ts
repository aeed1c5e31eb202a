/**
 * Load shedding: when the process is already behind (mean event-loop delay over the last window
 * above `maxEventLoopLagMs`) or holds more than `maxInFlight` requests, new work is refused at
 * once with SERVICE_OVERLOADED (HTTP 503, retry-after) instead of queueing behind everyone else.
 * The check is two comparisons on the hot path; the lag is sampled by a timer off it.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { FolioError } from '../../lib/errors.js';
import type { GatewayMetrics } from './metrics.js';

export interface LoadSheddingOptions {
  /** Requests being served above which new ones are shed. @default 2000 */
  readonly maxInFlight?: number;
  /** Mean event-loop delay (ms) over the last window above which new requests are shed. @default 250 */
  readonly maxEventLoopLagMs?: number;
  /** Length of the lag window. @default 500 */
  readonly windowMs?: number;
  readonly metrics?: GatewayMetrics;
}

export interface LoadShedder {
  /** Throws SERVICE_OVERLOADED when new work must be refused; otherwise counts the request in. */
  enter(): void;
  leave(): void;
  readonly inFlight: number;
  /** Mean event-loop delay of the last window, ms. */
  readonly lagMs: number;
  close(): void;
}

export function createLoadShedder(options: LoadSheddingOptions = {}): LoadShedder {
  const maxInFlight = options.maxInFlight ?? 2000;
  const maxLag = options.maxEventLoopLagMs ?? 250;
  let inFlight = 0;
  let lagMs = 0;
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const timer = setInterval(() => {
    // mean includes the 10 ms sampling resolution; subtract it so an idle loop reads ~0.
    lagMs = Math.max(0, histogram.mean / 1e6 - 10);
    histogram.reset();
  }, options.windowMs ?? 500);
  timer.unref();

  return {
    enter() {
      if (inFlight >= maxInFlight) {
        options.metrics?.shed.inc({ reason: 'in_flight' });
        throw new FolioError('SERVICE_OVERLOADED', undefined, { details: { retryAfterSeconds: 1 } });
      }
      if (lagMs > maxLag) {
        options.metrics?.shed.inc({ reason: 'event_loop_lag' });
        throw new FolioError('SERVICE_OVERLOADED', undefined, { details: { retryAfterSeconds: 1 } });
      }
      inFlight += 1;
    },
    leave() {
      inFlight -= 1;
    },
    get inFlight() {
      return inFlight;
    },
    get lagMs() {
      return lagMs;
    },
    close() {
      clearInterval(timer);
      histogram.disable();
    },
  };
}
