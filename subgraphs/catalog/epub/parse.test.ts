import { describe, expect, it } from 'vitest';
import { buildDemoEpubs, demoBooks, generateSyntheticBook } from '../demo/index.js';
import { buildEpub, epubFiles } from './build.js';
import { chapterWithBody, FIXTURE_BOOK, writeZip, zipEntry } from '../../../test/kit/epubFixtures.js';
import { EPUB_STAGES, parseEpub } from './parse.js';
import type { EpubStage, ParsedEpub } from './parse.js';

function expectConsistentOffsets(book: ParsedEpub): void {
  for (const chapter of book.chapters) {
    expect(chapter.text).toBe(chapter.paragraphs.map((p) => p.text).join('\n\n'));
    chapter.paragraphs.forEach((p, i) => {
      expect(p.index).toBe(i);
      expect(chapter.text.slice(p.startOffset, p.endOffset)).toBe(p.text);
    });
  }
}

/** The fixture book with some files replaced and optional OPF edits. */
function variant(replace: Record<string, string | null>): Buffer {
  const files = epubFiles(FIXTURE_BOOK).filter(([name]) => replace[name] !== null);
  return writeZip(files.map(([name, content]) => zipEntry(name, replace[name] ?? content)));
}

describe('parseEpub on the demo library', () => {
  it('parses every demo book with its metadata, chapter titles and paragraphs', async () => {
    const epubs = await buildDemoEpubs();
    expect(epubs.map((e) => e.slug)).toEqual(demoBooks.map((b) => b.slug));
    for (const [i, { epub, meta }] of epubs.entries()) {
      const source = demoBooks[i]!;
      const book = await parseEpub(epub);
      expect(book.metadata).toMatchObject({
        title: meta.title,
        authors: meta.authors,
        language: meta.language,
        description: meta.description,
        publisher: meta.publisher,
        subjects: meta.subjects,
      });
      expect(book.chapters.map((c) => c.title)).toEqual(source.chapters.map((c) => c.title));
      book.chapters.forEach((chapter, c) => {
        expect(chapter.index).toBe(c);
        // The chapter's <h1> is content too, so it is the first paragraph.
        expect(chapter.paragraphs.map((p) => p.text)).toEqual([source.chapters[c]!.title, ...source.chapters[c]!.paragraphs]);
        expect(chapter.contentHash).toMatch(/^[0-9a-f]{64}$/);
      });
      expectConsistentOffsets(book);
      expect(book.wordCount).toBe(book.chapters.reduce((sum, c) => sum + c.wordCount, 0));
    }
  });

  it('counts Chinese characters one word each and English words by whitespace', async () => {
    const [, , tea] = await buildDemoEpubs();
    const book = await parseEpub(tea!.epub);
    const firstParagraph = book.chapters[0]!.paragraphs[1]!.text;
    expect(firstParagraph.startsWith('传说神农尝百草')).toBe(true);
    const hanCount = [...firstParagraph].filter((ch) => /\p{Script=Han}/u.test(ch)).length;
    expect(book.chapters[0]!.wordCount).toBeGreaterThan(hanCount);
    const english = await parseEpub(await buildEpub({ ...FIXTURE_BOOK, chapters: [{ title: 'Two words', paragraphs: ['One two three, four.'] }] }));
    expect(english.wordCount).toBe(6);
  });

  it('is deterministic: same bytes, same hashes; changed text, changed hash', async () => {
    const a = await parseEpub(await buildEpub(FIXTURE_BOOK));
    const b = await parseEpub(await buildEpub(FIXTURE_BOOK));
    expect(a.contentHash).toBe(b.contentHash);
    const edited = {
      ...FIXTURE_BOOK,
      chapters: [FIXTURE_BOOK.chapters[0]!, { title: 'Evening Nets', paragraphs: ['By dusk the nets were torn.'] }],
    };
    const c = await parseEpub(await buildEpub(edited));
    expect(c.chapters[0]!.contentHash).toBe(a.chapters[0]!.contentHash);
    expect(c.chapters[1]!.contentHash).not.toBe(a.chapters[1]!.contentHash);
    expect(c.contentHash).not.toBe(a.contentHash);
  });

  it('reports its stages in order', async () => {
    const stages: EpubStage[] = [];
    await parseEpub(await buildEpub(FIXTURE_BOOK), {}, { onStage: (stage) => void stages.push(stage) });
    expect(stages).toEqual([...EPUB_STAGES]);
  });
});

describe('parseEpub chapter titles and content rules', () => {
  const nav = 'OEBPS/nav.xhtml';
  const ncx = 'OEBPS/toc.ncx';
  const opf = String(epubFiles(FIXTURE_BOOK).find(([name]) => name === 'OEBPS/content.opf')![1]);

  it('falls back from nav to NCX, to the first heading, to "Chapter N"', async () => {
    const withoutNav = await parseEpub(variant({ [nav]: null }));
    expect(withoutNav.chapters.map((c) => c.title)).toEqual(['Morning Tide', 'Evening Nets']);

    const headingsOnly = await parseEpub(
      variant({ [nav]: null, [ncx]: null, 'OEBPS/chapter-002.xhtml': chapterWithBody('<p>No heading here.</p>') }),
    );
    expect(headingsOnly.chapters.map((c) => c.title)).toEqual(['Morning Tide', 'Chapter 2']);
  });

  it('skips spine items without text and renumbers the rest', async () => {
    const book = await parseEpub(
      variant({ 'OEBPS/chapter-001.xhtml': chapterWithBody('<div><img src="cover.png" alt=""/></div>') }),
    );
    expect(book.chapters).toHaveLength(1);
    expect(book.chapters[0]).toMatchObject({ index: 0, title: 'Evening Nets', href: 'OEBPS/chapter-002.xhtml' });
  });

  it('splits overlong paragraphs at sentence ends and keeps offsets exact', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `Sentence number ${i} is here.`).join(' ');
    const book = await parseEpub(await buildEpub({ ...FIXTURE_BOOK, chapters: [{ title: 'Long', paragraphs: [long] }] }), {
      maxParagraphChars: 200,
    });
    const paragraphs = book.chapters[0]!.paragraphs.slice(1);
    expect(paragraphs.length).toBeGreaterThan(5);
    for (const p of paragraphs) {
      expect(p.text.length).toBeLessThanOrEqual(200);
      expect(p.text.endsWith('.')).toBe(true);
    }
    expect(paragraphs.map((p) => p.text).join(' ')).toBe(long);
    expectConsistentOffsets(book);
  });

  it('reads an EPUB 2 book with opf:role creators, an ISBN identifier and a cover', async () => {
    const epub2Opf = opf
      .replace('version="3.0"', 'version="2.0" xmlns:opf="http://www.idpf.org/2007/opf"')
      .replace(/<dc:identifier id="book-id">[^<]*<\/dc:identifier>/, '<dc:identifier id="book-id" opf:scheme="ISBN">978-0-306-40615-7</dc:identifier>')
      .replace(/<dc:creator[^>]*>Folio Fixtures<\/dc:creator>\s*<meta[^>]*>aut<\/meta>/, '<dc:creator opf:role="aut">Ann Author</dc:creator><dc:creator opf:role="ill">Ivan Illustrator</dc:creator><meta name="cover" content="cover-img"/>')
      .replace('<item id="nav"', '<item id="cover-img" href="images/cover.png" media-type="image/png"/>\n<item id="nav"');
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const files = epubFiles(FIXTURE_BOOK)
      .filter(([name]) => name !== nav)
      .map(([name, content]) => zipEntry(name, name === 'OEBPS/content.opf' ? epub2Opf : content));
    const book = await parseEpub(writeZip([...files, zipEntry('OEBPS/images/cover.png', png)]));
    expect(book.metadata.authors).toEqual(['Ann Author']);
    expect(book.metadata.isbn).toBe('9780306406157');
    expect(book.coverImage).toEqual({ mediaType: 'image/png', bytes: png });
    expect(book.chapters.map((c) => c.title)).toEqual(['Morning Tide', 'Evening Nets']);
  });

  it('handles a large synthetic Chinese book', async () => {
    const source = generateSyntheticBook({ chapters: 20, paragraphsPerChapter: 50, seed: 7, language: 'zh' });
    const book = await parseEpub(await buildEpub(source));
    expect(book.chapters).toHaveLength(20);
    expect(book.chapters.every((c) => c.paragraphs.length === 51)).toBe(true);
    expect(book.chapters[3]!.paragraphs[1]!.text).toBe(source.chapters[3]!.paragraphs[0]);
    expectConsistentOffsets(book);
  });
});
