/**
 * Child process of bench:isolation: runs the whole platform on its own event loop, so the
 * bench's load generator (its timers, JSON parsing and the EPUB's base64) can never stall the
 * platform and its own stalls are never charged to the platform. Talks to the parent over IPC:
 * sends `{ ready, gateway }`, answers `lag` with the platform's event-loop delay since the last
 * `lag-reset` (and the stalls it saw), and stops on `stop`.
 *
 * Stalls: a 10 ms timer notes every turn that came STALL_MS or more late. With --cpu-prof they
 * are also written to `<FOLIO_BENCH_STALL_DIR>/stalls-<pid>.json` on a monotonic clock in µs
 * (process.hrtime, the clock of V8's profile timestamps), so each stall can be matched with the
 * profile samples inside it (what ran while the loop was blocked).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startTestPlatform } from '../test/kit/platform.js';

type Message = { type: 'lag-reset' } | { type: 'lag' } | { type: 'stop' };

/** A loop turn this late counts as a stall. */
const STALL_MS = 50;
const TICK_MS = 10;

const env = JSON.parse(process.env.FOLIO_BENCH_PLATFORM_ENV ?? '{}') as Record<string, string>;
const stallDir = process.env.FOLIO_BENCH_STALL_DIR;
const platform = await startTestPlatform({ env });
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();

const micros = (): number => Number(process.hrtime.bigint() / 1000n);
let stalls: Array<{ endUs: number; ms: number }> = [];
let last = micros();
const ticker = setInterval(() => {
  const now = micros();
  const late = (now - last) / 1000 - TICK_MS;
  if (late >= STALL_MS) stalls.push({ endUs: now, ms: Math.round(late) });
  last = now;
}, TICK_MS);

process.on('message', (m: Message) => {
  if (m.type === 'lag-reset') {
    lag.reset();
    stalls = [];
    process.send?.({ type: 'lag-reset' });
  } else if (m.type === 'lag') {
    if (stallDir) writeFileSync(join(stallDir, `stalls-${process.pid}.json`), JSON.stringify(stalls));
    process.send?.({
      type: 'lag',
      p50Ms: lag.percentile(50) / 1e6,
      p99Ms: lag.percentile(99) / 1e6,
      maxMs: lag.max / 1e6,
      stalls100: stalls.filter((s) => s.ms >= 100).length,
      stalledMs: stalls.reduce((sum, s) => sum + s.ms, 0),
    });
  } else if (m.type === 'stop') {
    lag.disable();
    clearInterval(ticker);
    void platform.stop().finally(() => {
      process.send?.({ type: 'stopped' });
      process.disconnect?.();
      process.exit(0);
    });
  }
});
process.send?.({ type: 'ready', gateway: platform.gateway });
