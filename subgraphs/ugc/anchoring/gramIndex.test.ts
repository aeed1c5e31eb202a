import { describe, expect, it } from 'vitest';
import { paragraph, seededRandom } from '../../../test/kit/anchoringFixtures.js';
import { GRAM_LENGTH, GramIndex } from './gramIndex.js';

function naive(text: string, pattern: string, from: number, to: number): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(pattern, from); at !== -1 && at + pattern.length <= to; at = text.indexOf(pattern, at + 1)) {
    found.push(at);
  }
  return found;
}

describe('GramIndex', () => {
  const rnd = seededRandom(9);
  const text = Array.from({ length: 60 }, () => paragraph(rnd)).join('\n\n') + 'zh: ' + paragraph(rnd, 'zh');
  const index = new GramIndex(text);

  it('finds exactly the occurrences indexOf finds, within the range', () => {
    for (let i = 0; i < 300; i += 1) {
      const length = GRAM_LENGTH + Math.floor(rnd() * 40);
      const at = Math.floor(rnd() * (text.length - length));
      const pattern = text.slice(at, at + length);
      const from = Math.floor(rnd() * at);
      const to = at + length + Math.floor(rnd() * (text.length - at - length));
      expect(index.occurrences(pattern, from, to, 10_000)).toEqual(naive(text, pattern, from, to));
    }
  });

  it('returns [] for absent patterns and null for patterns shorter than a gram', () => {
    expect(index.occurrences('qqqqqqqqqqqqqqqq', 0, text.length, 10)).toEqual([]);
    expect(index.occurrences('the', 0, text.length, 10)).toBeNull();
  });

  it('treats a seed with more hits than the limit as uninformative', () => {
    const repeated = new GramIndex('abcdefghijklm '.repeat(20));
    expect(repeated.seedOccurrences('abcdefghijkl', 0, 280, 8)).toEqual([]);
    expect(repeated.seedOccurrences('abcdefghijkl', 0, 56, 8)).toEqual([0, 14, 28, 42]);
  });

  it('indexes texts shorter than a gram without failing', () => {
    expect(new GramIndex('short').occurrences('shortshortshort', 0, 5, 10)).toEqual([]);
    expect(new GramIndex('').occurrences('abcdefghijklmnop', 0, 0, 10)).toEqual([]);
  });
});
