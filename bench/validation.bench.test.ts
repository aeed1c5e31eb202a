import { expect, it } from 'vitest';
import { measureShapes, SHAPES } from './validation.bench.js';

// The benchmark's worst shapes, a few runs each (the bench itself runs 40 and reports against the
// 20 ms goal): every one validates under a bound generous enough for a loaded CI machine, where
// graphql-js's stock rule took 0.2–3.3 s on the same documents.
it('validates every worst-case document within the limits in bounded time', () => {
  const results = measureShapes({ iterations: 3, stock: false });
  expect(results.map((r) => r.shape)).toEqual(SHAPES.map((s) => s.name));
  for (const r of results) {
    expect(r.validate.cpuP50, r.shape).toBeLessThan(100);
    expect(r.tokens, r.shape).toBeLessThanOrEqual(3000);
  }
  // The document is refused by the cheap count, not validated pairwise.
  expect(results[0]!.verdict).toBe('refused (fields)');
  // The others were grown to the largest size the limits still accept.
  expect(results.slice(1).filter((r) => r.accepted).length).toBeGreaterThan(10);
});
