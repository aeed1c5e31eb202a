import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSoak } from './soak.bench.js';

// A short soak (three 2-second intervals): the per-interval report must be complete and error-free.
describe('bench:soak (short)', () => {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'soak-bench-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('reports RSS, data size and read/write latency per interval', async () => {
    const report = await runSoak({ minutes: 3, intervalMs: 2_000, rate: 10, users: 3, warmupMinutes: 1, outDir });
    expect(report.intervals).toHaveLength(3);
    for (const interval of report.intervals) {
      // The platform child's own memory, before and after a forced GC.
      expect(interval.rssMiB).toBeGreaterThan(0);
      expect(interval.heapAfterGcMiB).toBeGreaterThan(0);
      expect(interval.heapAfterGcMiB).toBeLessThanOrEqual(interval.rssAfterGcMiB);
      expect(interval.dataDirMiB).toBeGreaterThan(0);
      expect(interval.reads.count + interval.writes.count).toBeGreaterThan(0);
      expect(interval.reads.errors + interval.writes.errors).toBe(0);
    }
    expect(report.intervals.reduce((n, i) => n + i.writes.count, 0)).toBeGreaterThan(0);
    expect(report.errors).toBe(0);
    expect(Object.keys(report.intervals.at(-1)!.dataDirByEntryMiB).length).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(report.files!.json, 'utf8')).intervals).toHaveLength(3);
  });
});
