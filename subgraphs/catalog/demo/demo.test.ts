import { describe, expect, it } from 'vitest';
import { buildDemoEpubs, demoBooks, generateSyntheticBook } from './index.js';

describe('demo library', () => {
  it('has 5–6 books with 2–6 chapters of a few paragraphs, in English and Chinese', () => {
    expect(demoBooks.length).toBeGreaterThanOrEqual(5);
    expect(demoBooks.length).toBeLessThanOrEqual(6);
    for (const book of demoBooks) {
      expect(book.chapters.length).toBeGreaterThanOrEqual(3);
      expect(book.chapters.length).toBeLessThanOrEqual(6);
      for (const chapter of book.chapters) expect(chapter.paragraphs.length).toBeGreaterThanOrEqual(2);
    }
    const chinese = demoBooks.filter((b) => b.language.startsWith('zh'));
    expect(chinese.length).toBeGreaterThanOrEqual(2);
    for (const book of chinese) {
      const text = book.chapters.flatMap((c) => c.paragraphs).join('');
      expect([...text].filter((ch) => /\p{Script=Han}/u.test(ch)).length / [...text].length).toBeGreaterThan(0.8);
    }
    expect(new Set(demoBooks.map((b) => b.slug)).size).toBe(demoBooks.length);
    expect(new Set(demoBooks.flatMap((b) => b.subjects ?? [])).size).toBeGreaterThan(demoBooks.length * 2);
  });

  it('builds the same EPUB bytes every time', async () => {
    const [a, b] = await Promise.all([buildDemoEpubs(), buildDemoEpubs()]);
    expect(a.map((e) => e.epub.equals(b.find((x) => x.slug === e.slug)!.epub))).toEqual(a.map(() => true));
    expect(a[0]!.meta).not.toHaveProperty('chapters');
  });
});

describe('generateSyntheticBook', () => {
  it('is deterministic per seed and varies between seeds', () => {
    const options = { chapters: 3, paragraphsPerChapter: 10, seed: 42, language: 'en' };
    expect(generateSyntheticBook(options)).toEqual(generateSyntheticBook(options));
    expect(generateSyntheticBook({ ...options, seed: 43 })).not.toEqual(generateSyntheticBook(options));
  });

  it('produces varied English and Chinese prose of the requested shape', () => {
    const en = generateSyntheticBook({ chapters: 4, paragraphsPerChapter: 25, seed: 1, language: 'en' });
    expect(en.chapters).toHaveLength(4);
    const paragraphs = en.chapters.flatMap((c) => c.paragraphs);
    expect(paragraphs).toHaveLength(100);
    expect(new Set(paragraphs).size).toBe(100);
    expect(new Set(paragraphs.map((p) => p.length)).size).toBeGreaterThan(50);
    const zh = generateSyntheticBook({ chapters: 1, paragraphsPerChapter: 5, seed: 1, language: 'zh-CN' });
    expect(zh.language).toBe('zh-CN');
    expect(zh.chapters[0]!.paragraphs[0]).toMatch(/\p{Script=Han}/u);
  });

  it('rejects nonsense sizes', () => {
    expect(() => generateSyntheticBook({ chapters: 0, paragraphsPerChapter: 1, seed: 1, language: 'en' })).toThrow(RangeError);
  });
});
