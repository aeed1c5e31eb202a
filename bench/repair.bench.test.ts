import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runRepairBench } from './repair.bench.js';

it('runs the repair bench end to end on 400 highlights and writes JSON + Markdown results', async () => {
  const outDir = await mkdtemp(path.join(tmpdir(), 'folio-rbench-'));
  try {
    const { result, json, md } = await runRepairBench({ highlights: 400, batchSize: 100, outDir, log: () => {} });
    expect(result.config).toMatchObject({ highlights: 400, notes: 4, batchSize: 100 });
    // Every highlight and note was accounted for exactly once; most survive the edits.
    expect(result.counts.moved + result.counts.unchanged + result.counts.orphaned).toBe(404);
    expect(result.counts.orphaned).toBeLessThan(404 * 0.1);
    expect(result.counts.batches).toBe(5);
    expect(result.highlightsPerSecond).toBeGreaterThan(0);
    expect(JSON.parse(await readFile(json, 'utf8')).jobSeconds).toBeGreaterThan(0);
    expect(await readFile(md, 'utf8')).toContain('highlights/s');
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}, 60_000);
