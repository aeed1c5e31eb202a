import { describe, expect, it } from 'vitest';
import { SparseIndex, bm25Idf } from './sparseIndex.js';
import { seededRandom } from '../../test/kit/random.js';
import type { SparseVector } from './types.js';

describe('SparseIndex', () => {
  it('returns the exact top-k (ids and scores) when it prunes long, low-idf posting lists', () => {
    const random = seededRandom(3);
    const index = new SparseIndex();
    const docs: SparseVector[] = [];
    for (let slot = 0; slot < 4000; slot++) {
      // Term 0 is in most documents (low idf, long list); terms 1..400 are rarer.
      const terms = new Map<number, number>();
      if (random() < 0.8) terms.set(0, 0.5 + random());
      for (let t = 0; t < 4; t++) terms.set(1 + Math.floor(random() * random() * 400), 0.5 + random());
      const vector = { indices: [...terms.keys()], values: [...terms.values()] };
      docs.push(vector);
      index.add(slot, vector);
    }
    index.remove(7); // a dead posting in every list must be skipped by both paths
    const n = index.documents;
    for (let q = 0; q < 30; q++) {
      const query = { indices: [0, 1 + Math.floor(random() * 40), 1 + Math.floor(random() * 400)], values: [1, 1, 0.5] };
      const weights = new Map(query.indices.map((term, i) => [term, query.values[i]! * bm25Idf(n, index.docFreq(term))]));
      const expected = docs
        .map((doc, slot) => ({ slot, score: doc.indices.reduce((sum, term, i) => sum + (weights.get(term) ?? 0) * doc.values[i]!, 0), shares: doc.indices.some((t) => weights.has(t)) }))
        .filter((hit) => hit.slot !== 7 && hit.shares)
        .sort((a, b) => b.score - a.score || a.slot - b.slot)
        .slice(0, 10);
      const hits = index.search(query, 10);
      expect(hits.map((h) => h.slot)).toEqual(expected.map((h) => h.slot));
      hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]!.score, 4));
    }
  });
});
