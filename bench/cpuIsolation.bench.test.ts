import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runIsolationBench } from './cpuIsolation.bench.js';

// A tiny run of bench:isolation: the scenario (upload, parse, publish, index under a query
// stream, workers off and on) must keep working end to end; its timings are the real run's job.
describe('bench:isolation (tiny book)', () => {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'isolation-bench-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('ingests a book with workers off and on while catalog queries keep being answered', async () => {
    const report = await runIsolationBench({ paragraphs: 200, rate: 10, threads: 1, modes: ['off', 'on'], outDir, timeoutMs: 60_000 });
    expect(report.runs.map((r) => [r.mode, r.workerThreads])).toEqual([['off', 0], ['on', 1]]);
    for (const run of report.runs) {
      expect(run.paragraphs).toBe(200);
      expect(run.chunks).toBeGreaterThan(0);
      expect(run.catalog.queries).toBeGreaterThan(0);
      expect(run.catalog.ok + run.catalog.shed503 + run.catalog.otherErrors).toBe(run.catalog.queries);
      expect(run.catalog.otherErrors).toBe(0);
    }
    expect(JSON.parse(readFileSync(report.files!.json, 'utf8')).runs).toHaveLength(2);
    expect(readFileSync(report.files!.md, 'utf8')).toContain('| on (1 threads) | catalog |');
  });
});
