import { describe, expect, it } from 'vitest';
import { contextSimilarity, editDistance } from './similarity.js';

describe('editDistance / contextSimilarity', () => {
  it('computes Levenshtein distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('天下大势', '天下大事')).toBe(1);
  });

  it('handles strings longer than its preallocated row', () => {
    expect(editDistance('a'.repeat(100), 'a'.repeat(99) + 'b')).toBe(1);
  });

  it('scores similarity relative to the expected context', () => {
    expect(contextSimilarity('of the river', 'of the river')).toBe(1);
    expect(contextSimilarity('of the rover', 'of the river')).toBeCloseTo(1 - 1 / 12);
    expect(contextSimilarity('', 'anything')).toBe(0);
    expect(contextSimilarity('completely different text', 'xyz')).toBe(0);
  });
});
