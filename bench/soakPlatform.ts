/**
 * Child process of bench:soak: runs the whole platform on its own, so the memory the soak reports
 * is the platform's alone (not the load generator's samples, sockets and JSON). Talks to the
 * parent over IPC: sends `{ ready, gateway, dataDir }`; answers `memory` with process.memoryUsage()
 * and V8's heap statistics, first after a forced full GC when asked (`gc: true`, needs
 * --expose-gc) so retained memory is told apart from garbage not yet collected; writes a heap
 * snapshot on `heap-snapshot`; starts and stops a CPU profile on `cpu-profile` (written as a
 * .cpuprofile for Chrome DevTools or speedscope); answers `store` with the embedded databases' document counts per
 * collection and journal/snapshot sizes; stops on `stop`.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { embeddedStoreStats } from '../lib/storage/embedded/index.js';
import { startTestPlatform } from '../test/kit/platform.js';

type Message =
  | { type: 'memory'; gc?: boolean }
  | { type: 'store' }
  | { type: 'heap-snapshot'; path: string }
  | { type: 'cpu-profile'; action: 'start' }
  | { type: 'cpu-profile'; action: 'stop'; path: string }
  | { type: 'stop' };

export interface PlatformMemory {
  readonly type: 'memory';
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** V8's heap after the GC (if one was asked for), including code and maps. */
  readonly usedHeapSize: number;
  readonly gcRan: boolean;
}

const env = JSON.parse(process.env.FOLIO_BENCH_PLATFORM_ENV ?? '{}') as Record<string, string>;
// bench:scale restarts the platform on the data it loaded: it names the directory and keeps it.
const reuseDir = process.env.FOLIO_BENCH_PLATFORM_DATA_DIR;
const platform = await startTestPlatform({ env, ...(reuseDir ? { dataDir: reuseDir, keepData: true } : {}) });
const gc = (globalThis as { gc?: () => void }).gc;
let profiler: Session | undefined;

async function cpuProfile(m: Extract<Message, { type: 'cpu-profile' }>): Promise<string | undefined> {
  if (m.action === 'start') {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
    return undefined;
  }
  if (!profiler) return undefined;
  const { profile } = await profiler.post('Profiler.stop');
  profiler.disconnect();
  profiler = undefined;
  await writeFile(m.path, JSON.stringify(profile));
  return m.path;
}

process.on('message', (m: Message) => {
  if (m.type === 'memory') {
    if (m.gc && gc) gc();
    const u = process.memoryUsage();
    const reply: PlatformMemory = { type: 'memory', rss: u.rss, heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external, arrayBuffers: u.arrayBuffers, usedHeapSize: getHeapStatistics().used_heap_size, gcRan: Boolean(m.gc && gc) };
    process.send?.(reply);
  } else if (m.type === 'store') {
    process.send?.({ type: 'store', databases: embeddedStoreStats() });
  } else if (m.type === 'heap-snapshot') {
    process.send?.({ type: 'heap-snapshot', file: writeHeapSnapshot(m.path) });
  } else if (m.type === 'cpu-profile') {
    void cpuProfile(m).then((file) => process.send?.({ type: 'cpu-profile', file }));
  } else if (m.type === 'stop') {
    void platform.stop().finally(() => {
      process.send?.({ type: 'stopped' });
      process.disconnect?.();
      process.exit(0);
    });
  }
});
process.send?.({ type: 'ready', gateway: platform.gateway, dataDir: platform.dataDir });
