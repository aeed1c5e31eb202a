import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runVectorsBench } from './vectors.bench.js';

it('runs the vector bench end to end on 5,000 points and writes JSON + Markdown results', async () => {
  const outDir = await mkdtemp(path.join(tmpdir(), 'folio-vbench-'));
  try {
    const { json, md } = await runVectorsBench({ points: 5000, queries: 50, privateNotes: 500, outDir, log: () => {} });
    const result = JSON.parse(await readFile(json, 'utf8'));
    expect(result.config.points).toBe(5000);
    expect(result.recallAt10).toBeGreaterThanOrEqual(0.95);
    expect(result.latencyMs.dense.p99).toBeGreaterThan(0);
    expect(result.latencyMs.hybrid.p50).toBeGreaterThan(0);
    expect(result.privateIndex.notes).toBe(500);
    expect(await readFile(md, 'utf8')).toContain('recall@10');
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
});
