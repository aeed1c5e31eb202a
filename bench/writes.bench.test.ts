import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runWritesBench } from './writes.bench.js';

// A one-second-per-kind run with three readers: every kind of write must succeed and be counted.
describe('bench:writes (short)', () => {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'writes-bench-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('measures progress updates, notes and highlights per second without errors', async () => {
    const report = await runWritesBench({ users: 3, seconds: 1, modes: ['pipelined'], outDir });
    expect(report.results.map((r) => r.kind)).toEqual(['progress', 'note', 'highlight']);
    for (const result of report.results) {
      expect(result.mode).toBe('pipelined');
      expect(result.count).toBeGreaterThan(0);
      expect(result.errors).toBe(0);
      expect(result.perSecond).toBeGreaterThan(0);
      expect(result.fsyncsPerSecond).toBeGreaterThan(0);
    }
    expect(readFileSync(report.files!.md, 'utf8')).toContain('| highlight |');
  });
});
