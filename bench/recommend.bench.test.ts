import { describe, expect, it } from 'vitest';
import { runOfflineEval } from './recommendEval.js';

// A small population: the evaluation runs end to end, and personal methods beat popularity.
describe('bench:recommend offline evaluation (small)', () => {
  it('reports hit-rate@10 and coverage per method; blended beats the popularity baseline', async () => {
    const report = await runOfflineEval({ booksPerGenre: 6, readers: 300, seed: 3, k: 3, secretShare: 0.1 });
    expect(report.methods.map((m) => m.method)).toEqual(['popularity', 'content', 'coReading', 'blended']);
    const by = Object.fromEntries(report.methods.map((m) => [m.method, m]));
    expect(by.blended!.evaluated).toBeGreaterThan(200);
    expect(by.blended!.hitRateAt10).toBeGreaterThan(by.popularity!.hitRateAt10);
    expect(by.blended!.coverage).toBeGreaterThan(by.popularity!.coverage);
    for (const m of report.methods) {
      expect(m.hitRateAt10).toBeGreaterThanOrEqual(0);
      expect(m.coverage).toBeLessThanOrEqual(1);
    }
  }, 120_000);
});
