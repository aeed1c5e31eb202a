import { describe, expect, it } from 'vitest';
import { chunkParagraphs } from './chunk.js';
import type { ChunkInput } from './chunk.js';

function chapter(chapterId: string, texts: string[]): ChunkInput[] {
  let offset = 0;
  return texts.map((text, i) => {
    const p = { paragraphId: `${chapterId}-p${i}`, chapterId, text, startOffset: offset };
    offset += text.length + 1;
    return p;
  });
}

describe('chunkParagraphs', () => {
  it('packs short paragraphs and keeps their ids and chapter offsets', () => {
    const paragraphs = chapter('c1', ['First one.', 'Second one.', 'Third one.']);
    const chunks = chunkParagraphs(paragraphs, { maxChars: 100, overlap: 0 });
    expect(chunks).toEqual([{ chapterId: 'c1', text: 'First one.\nSecond one.\nThird one.', paragraphIds: ['c1-p0', 'c1-p1', 'c1-p2'], start: 0, end: 33 }]);
  });

  it('never exceeds maxChars, splits long paragraphs at sentences, and overlaps neighbours', () => {
    const sentence = 'The whale rose from the grey sea and the sailors watched in silence. ';
    const long = sentence.repeat(40).trim();
    const paragraphs = chapter('c1', ['Intro.', long, 'Outro.']);
    const chunks = chunkParagraphs(paragraphs, { maxChars: 300, overlap: 60 });
    expect(chunks.length).toBeGreaterThan(8);
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThanOrEqual(300);
    // Offsets point back into the paragraph text.
    const body = paragraphs[1]!;
    for (const chunk of chunks.filter((c) => c.paragraphIds.length === 1 && c.paragraphIds[0] === body.paragraphId)) {
      expect(body.text.slice(chunk.start - body.startOffset, chunk.end - body.startOffset)).toBe(chunk.text);
      expect(chunk.text.endsWith('.') || chunk.text.endsWith('. ')).toBe(true); // sentence boundary
    }
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.start).toBeLessThan(chunks[i - 1]!.end); // overlap
    expect(chunks[0]!.paragraphIds[0]).toBe('c1-p0');
    expect(chunks.at(-1)!.paragraphIds).toContain('c1-p2');
  });

  it('does not cross chapters and skips blank paragraphs', () => {
    const chunks = chunkParagraphs([...chapter('c1', ['Alpha.', '   ']), ...chapter('c2', ['Beta.'])], { maxChars: 500 });
    expect(chunks.map((c) => [c.chapterId, c.text])).toEqual([
      ['c1', 'Alpha.'],
      ['c2', 'Beta.'],
    ]);
  });

  it('rejects nonsensical bounds', () => {
    expect(() => chunkParagraphs([], { maxChars: 10 })).toThrow(/maxChars/);
    expect(() => chunkParagraphs([], { maxChars: 100, overlap: 80 })).toThrow(/overlap/);
  });
});
