/**
 * Child process of bench:isolation: runs the whole platform on its own event loop, so the
 * bench's load generator (its timers, JSON parsing and the EPUB's base64) can never stall the
 * platform and its own stalls are never charged to the platform. Talks to the parent over IPC:
 * sends `{ ready, gateway }`, answers `lag` with the platform's event-loop delay since the last
 * `lag-reset`, and stops on `stop`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startTestPlatform } from '../test/kit/platform.js';

type Message = { type: 'lag-reset' } | { type: 'lag' } | { type: 'stop' };

const env = JSON.parse(process.env.FOLIO_BENCH_PLATFORM_ENV ?? '{}') as Record<string, string>;
const platform = await startTestPlatform({ env });
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();

process.on('message', (m: Message) => {
  if (m.type === 'lag-reset') {
    lag.reset();
    process.send?.({ type: 'lag-reset' });
  } else if (m.type === 'lag') {
    process.send?.({ type: 'lag', p50Ms: lag.percentile(50) / 1e6, p99Ms: lag.percentile(99) / 1e6, maxMs: lag.max / 1e6 });
  } else if (m.type === 'stop') {
    lag.disable();
    void platform.stop().finally(() => {
      process.send?.({ type: 'stopped' });
      process.disconnect?.();
      process.exit(0);
    });
  }
});
process.send?.({ type: 'ready', gateway: platform.gateway });
