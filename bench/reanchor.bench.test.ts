import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runReanchorBench } from './reanchor.bench.js';

// A small run of the re-anchoring benchmark: it must keep working, and its correctness
// figures (not its speed, which depends on the machine) must hold.
describe('bench:reanchor (2,000 highlights)', () => {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'reanchor-bench-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('re-anchors a generated revision correctly and writes JSON and Markdown results', () => {
    const report = runReanchorBench({ highlights: 2000, chapters: 6, paragraphs: 40, seed: 3, outDir });
    const { outcomes, truth, correctness } = report;
    expect(outcomes.unchanged + outcomes.movedExact + outcomes.movedFuzzy + outcomes.orphaned).toBe(2000);
    expect(truth.intact + truth.edited + truth.deleted).toBe(2000);
    expect(truth.edited).toBeGreaterThan(50);
    expect(truth.deleted).toBeGreaterThan(20);
    expect(correctness.intactPlacedCorrectly).toBe(1);
    expect(correctness.deletedOrphaned).toBeGreaterThan(0.95);
    expect(correctness.editedLocated).toBeGreaterThan(0.95);
    expect(correctness.misplaced).toBeLessThanOrEqual(2);
    expect(report.highlightsPerSecond).toBeGreaterThan(0);

    const json = JSON.parse(readFileSync(report.files!.json, 'utf8'));
    expect(json.outcomes).toEqual(outcomes);
    expect(readFileSync(report.files!.md, 'utf8')).toContain('highlights/s');
  });
});
