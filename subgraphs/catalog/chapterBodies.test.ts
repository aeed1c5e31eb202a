import { describe, expect, it } from 'vitest';
import { cutIntoParts, splitChapter } from './chapterBodies.js';
import type { ChapterDoc } from './store.js';

const chapter = (text: string, html: string): ChapterDoc => ({
  _id: 'r1.c0', bookId: 'b1', revisionId: 'r1', index: 0, title: 'T', text, html, wordCount: 1, contentHash: 'h', paragraphCount: 1,
  paragraphs: [{ index: 0, startOffset: 0, endOffset: text.length }],
});

describe('chapter bodies', () => {
  it('cuts text into parts that join back exactly and never split a surrogate pair', () => {
    const text = 'ab😀cd😀😀e';
    for (const size of [2, 3, 4, 5]) {
      const parts = cutIntoParts(text, size);
      expect(parts.join('')).toBe(text);
      for (const part of parts) {
        expect(part.length).toBeLessThanOrEqual(size);
        expect(part).not.toMatch(/^[\udc00-\udfff]|[\ud800-\udbff]$/);
      }
    }
  });

  it('keeps short chapters in one document and continues long ones in parts', () => {
    expect(splitChapter(chapter('short', '<p>short</p>'), 100)).toEqual({ chapter: chapter('short', '<p>short</p>'), parts: [] });
    const long = splitChapter(chapter('x'.repeat(25), 'h'.repeat(11)), 10);
    expect(long.chapter.text).toBe('x'.repeat(10));
    expect(long.chapter.overflow).toEqual({ textParts: 2, htmlParts: 1 });
    expect(long.parts.map((p) => [p._id, p.field, p.n, p.value.length])).toEqual([
      ['r1.c0:text:1', 'text', 1, 10],
      ['r1.c0:text:2', 'text', 2, 5],
      ['r1.c0:html:1', 'html', 1, 1],
    ]);
  });
});
