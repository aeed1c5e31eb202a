import { describe, expect, it } from 'vitest';
import { evaluateSearch } from './searchQuality/harness.js';

// The evaluation set at its full (small) size with the default embedder: the numbers it reports
// are the floor a change to search must not go below (measured 2026-12-03: HYBRID 85% / 0.59).
describe('search quality (bench:search-quality, default embedder)', () => {
  it('finds the answering paragraph in the first ten for English and Chinese questions', async () => {
    const report = await evaluateSearch();
    expect(report.modes.HYBRID.all.recallAt10).toBeGreaterThanOrEqual(0.8);
    expect(report.modes.HYBRID.en.recallAt10).toBe(1);
    expect(report.modes.KEYWORD.zh.recallAt10).toBe(1);
    expect(report.modes.HYBRID.all.mrr).toBeGreaterThanOrEqual(0.5);
    // What the hashing embedder cannot do, measured rather than hidden: across languages it finds little.
    expect(report.modes.KEYWORD.cross.recallAt10).toBe(0);
    expect(report.ranks).toHaveLength(26);
  }, 180_000);
});
