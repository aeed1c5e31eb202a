import { describe, expect, it } from 'vitest';
import { queryToSparse, termId, toSparse } from './sparse.js';

describe('sparse vectors', () => {
  it('hashes tokens to sorted unique u32 ids with saturating term frequency', () => {
    const v = toSparse(['book', 'book', 'book', 'reader']);
    expect(v.indices).toHaveLength(2);
    expect([...v.indices]).toEqual([...v.indices].sort((a, b) => a - b));
    const book = v.values[v.indices.indexOf(termId('book'))]!;
    const reader = v.values[v.indices.indexOf(termId('reader'))]!;
    expect(book).toBeGreaterThan(reader);
    expect(book).toBeLessThan(3 * reader); // saturation: 3 occurrences weigh less than 3×
    expect(v.indices.every((i) => Number.isInteger(i) && i >= 0 && i <= 0xffffffff)).toBe(true);
  });

  it('normalises by length: the same term weighs less in a longer document', () => {
    const short = toSparse(['whale', 'sea']);
    const long = toSparse(['whale', ...Array.from({ length: 600 }, (_, i) => `w${i}`)]);
    expect(long.values[long.indices.indexOf(termId('whale'))]!).toBeLessThan(short.values[short.indices.indexOf(termId('whale'))]!);
  });

  it('gives queries weight 1 per distinct term (idf is applied by the store)', () => {
    const q = queryToSparse(['whale', 'whale', 'sea']);
    expect(q.values).toEqual([1, 1]);
    expect(toSparse([])).toEqual({ indices: [], values: [] });
  });
});
