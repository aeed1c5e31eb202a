import { describe, expect, it } from 'vitest';
import { coldStart, forReader, popularityBaseline, similarTo, type CandidateBook, type RecSource } from './rank.js';
import { authorKey, blend, coReading, cosine, diversify, scaleSignals, seedWeight, unit, W_CO_READING, W_CONTENT, weightedMean } from './scoring.js';

const vec = (...xs: number[]): Float32Array => Float32Array.from(xs);

function source(books: CandidateBook[], readers: Record<string, number>, pairs: Record<string, number>, k = 3): RecSource {
  const map = new Map(books.map((b) => [b.id, b]));
  return {
    k,
    dimension: 2,
    books: () => map,
    readers: (id) => readers[id] ?? 0,
    // Like the stored source: only pairs with at least k readers in common.
    neighbours: async (id) =>
      Object.entries(pairs)
        .filter(([key, n]) => key.split('|')[0] === id && n >= k)
        .map(([key, n]) => ({ bookId: key.split('|')[1]!, together: n }))
        .sort((a, b) => b.together - a.together),
  };
}

const book = (id: string, vector: Float32Array | null, authors = [`author of ${id}`], extra: Partial<CandidateBook> = {}): CandidateBook => ({
  id,
  title: id.toUpperCase(),
  authors,
  language: 'en',
  publishedAt: 0,
  // Stored book vectors are unit length (rank.ts compares them by dot product).
  vector: vector && unit(vector),
  ...extra,
});

describe('co-reading', () => {
  it('is cosine over reader sets, and zero below k readers in common', () => {
    expect(coReading(3, 9, 4, 3)).toBeCloseTo(3 / 6);
    expect(coReading(2, 2, 2, 3)).toBe(0);
    expect(coReading(5, 0, 5, 3)).toBe(0);
  });

  it('never offers a pair fewer than k readers share, however strong', async () => {
    const src = source([book('a', null), book('b', null), book('c', null)], { a: 2, b: 2, c: 10 }, { 'a|b': 2, 'b|a': 2, 'a|c': 3, 'c|a': 3 });
    const ranked = await similarTo(src, 'a', { mode: 'coReading', limit: 10 });
    expect(ranked.map((r) => r.bookId)).toEqual(['c']);
  });
});

describe('content and blend', () => {
  it('cosine, weighted means and the blend formula', () => {
    expect(cosine(vec(1, 0), vec(0, 1))).toBe(0);
    expect(cosine(vec(1, 1), vec(2, 2))).toBeCloseTo(1);
    const mean = weightedMean([{ vector: vec(1, 0), weight: 3 }, { vector: vec(0, 1), weight: 1 }], 2)!;
    expect(mean[0]! / mean[1]!).toBeCloseTo(3);
    expect(weightedMean([], 2)).toBeNull();
    expect(blend(0.8, 0.2, 0)).toBeCloseTo(W_CONTENT * 0.8 + W_CO_READING * 0.2);
    expect(blend(-1, 0, 0)).toBe(0);
    // Each signal is scaled over the list, so high, close cosines cannot drown co-reading.
    const scaled = scaleSignals([{ content: 0.9, co: 0 }, { content: 0.8, co: 0.2 }, { content: 0.85, co: 0.1 }]);
    expect(scaled.map((c) => [c.contentScaled, c.coScaled])).toEqual([[1, 0], [0, 1], [expect.closeTo(0.5), 0.5]]);
  });

  it('ranks similar books by blended score and names the book the reason comes from', async () => {
    const src = source(
      [book('a', vec(1, 0)), book('b', vec(0.9, 0.1)), book('c', vec(0, 1)), book('d', vec(0.1, 0.9))],
      { a: 5, b: 5, c: 5, d: 5 },
      { 'a|d': 5, 'd|a': 5 },
    );
    const ranked = await similarTo(src, 'a', { limit: 10 });
    // d: all of a's 5 readers read it (co 1.0) and a little content; b: near-identical content only.
    expect(ranked.slice(0, 2)).toEqual([
      expect.objectContaining({ bookId: 'd', source: 'CO_READING', basedOn: ['a'] }),
      expect.objectContaining({ bookId: 'b', source: 'CONTENT', basedOn: ['a'] }),
    ]);
    expect(ranked.map((r) => r.bookId)).not.toContain('a');
  });
});

describe('a reader\'s books', () => {
  const src = source(
    [book('mine1', vec(1, 0)), book('mine2', vec(0, 1)), book('near1', vec(0.95, 0.05)), book('near2', vec(0.05, 0.95)), book('co', vec(-1, 0))],
    { mine1: 6, co: 6, mine2: 1, near1: 1, near2: 1 },
    { 'mine1|co': 4, 'co|mine1': 4 },
  );

  it('excludes what they have, weights seeds, and names the seed behind each reason', async () => {
    const ranked = await forReader(src, [{ bookId: 'mine1', weight: 3 }, { bookId: 'mine2', weight: 1 }], { limit: 10, exclude: new Set(['mine1', 'mine2']) });
    const ids = ranked.map((r) => r.bookId);
    expect(ids).not.toContain('mine1');
    expect(ids.indexOf('near1')).toBeLessThan(ids.indexOf('near2'));
    expect(ranked.find((r) => r.bookId === 'near1')!.basedOn).toEqual(['mine1']);
    expect(ranked.find((r) => r.bookId === 'near2')!.basedOn).toEqual(['mine2']);
    expect(ranked.find((r) => r.bookId === 'co')).toMatchObject({ source: 'CO_READING', basedOn: ['mine1'] });
  });

  it('returns nothing personal without seeds; cold start is popular (≥ k readers) and recent, in a language', async () => {
    expect(await forReader(src, [], { limit: 10, exclude: new Set() })).toEqual([]);
    const cold = source(
      [book('p', null), book('q', null, undefined, { publishedAt: 50 }), book('r', null, undefined, { publishedAt: 100, language: 'zh-CN' }), book('few', null)],
      { p: 9, few: 2 },
      {},
    );
    const list = coldStart(cold, { limit: 10, exclude: new Set(), now: 0 });
    expect(list.slice(0, 2)).toEqual([expect.objectContaining({ bookId: 'p', source: 'POPULAR' }), expect.objectContaining({ bookId: 'r', source: 'RECENT' })]);
    expect(list.filter((r) => r.source === 'POPULAR').map((r) => r.bookId)).toEqual(['p']);
    expect(coldStart(cold, { limit: 10, language: 'zh', exclude: new Set(), now: 0 }).map((r) => r.bookId)).toEqual(['r']);
    expect(popularityBaseline(cold, { limit: 2, exclude: new Set(['p']) }).map((r) => r.bookId)[0]).toBe('few');
  });
});

describe('seed weights and diversity', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  it('finishing, time and highlights add; age halves the weight every 180 days', () => {
    const base = { onShelf: true, finished: false, seconds: 0, highlights: 0, lastActivity: now };
    expect(seedWeight(base, now)).toBe(1);
    expect(seedWeight({ ...base, finished: true }, now)).toBe(2);
    expect(seedWeight({ ...base, seconds: 3_600 }, now)).toBeGreaterThan(1);
    expect(seedWeight({ ...base, highlights: 5 }, now)).toBeGreaterThan(1);
    expect(seedWeight({ ...base, lastActivity: new Date(now.getTime() - 180 * 86_400_000) }, now)).toBeCloseTo(0.5);
    expect(seedWeight({ ...base, onShelf: false }, now)).toBe(0);
  });

  it('caps each author at two per list, keeping the order', () => {
    const items = ['a1', 'a2', 'b1', 'a3', 'c1', 'a4', 'x'].map((id) => ({ id, authors: id === 'x' ? [] : [id[0] === 'a' ? ' Ada  LOVELACE' : id[0]!] }));
    expect(diversify(items, (i) => i.authors).map((i) => i.id)).toEqual(['a1', 'a2', 'b1', 'c1', 'x']);
    expect(authorKey(['Ada Lovelace'])).toBe(authorKey(['  ada   lovelace ']));
  });
});
