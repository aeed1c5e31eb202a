/**
 * Load shedding: when the process is already behind (event-loop lag above `maxEventLoopLagMs`)
 * or holds more than `maxInFlight` requests, new work is refused at once with SERVICE_OVERLOADED (HTTP 503, retry-after) instead of queueing behind everyone else.
 * The check is two comparisons on the hot path; the lag is measured by a timer off it.
 */
import { FolioError } from '../../lib/errors.js';
import type { GatewayMetrics } from './metrics.js';

export interface LoadSheddingOptions {
  /** Requests being served above which new ones are shed. @default 2000 */
  readonly maxInFlight?: number;
  /** Event-loop lag (ms, smoothed) above which new requests are shed. @default 250 */
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
  /** Smoothed event-loop lag, ms. */
  readonly lagMs: number;
  close(): void;
}

export function createLoadShedder(options: LoadSheddingOptions = {}): LoadShedder {
  const maxInFlight = options.maxInFlight ?? 2000;
  const maxLag = options.maxEventLoopLagMs ?? 250;
  let inFlight = 0;
  let lagMs = 0;
  // Lag = how late the window timer fires (as toobusy-js measures it), smoothed so a single GC
  // pause does not shed on its own while sustained lag does within a window or two.
  const windowMs = options.windowMs ?? 500;
  let expected = performance.now() + windowMs;
  const timer = setInterval(() => {
    const now = performance.now();
    lagMs = lagMs / 2 + Math.max(0, now - expected) / 2;
    expected = now + windowMs;
  }, windowMs);
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
    },
  };
}
