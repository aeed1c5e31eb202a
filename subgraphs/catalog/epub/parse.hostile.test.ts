import { describe, expect, it } from 'vitest';
import { FolioError } from '../../../lib/errors.js';
import { buildEpub, epubFiles, zipEntries } from './build.js';
import { EpubError } from './errors.js';
import { FIXTURE_BOOK, HOSTILE_FIXTURES, hostileFixture } from '../../../test/kit/epubFixtures.js';
import { parseEpub } from './parse.js';
import { generateSyntheticBook } from '../demo/synthetic.js';

async function refusal(bytes: Buffer, limits = {}): Promise<EpubError> {
  const error = await parseEpub(bytes, limits).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EpubError);
  return error as EpubError;
}

describe('parseEpub refuses hostile uploads with a stable reason', () => {
  for (const fixture of HOSTILE_FIXTURES.filter((f) => f.expected !== 'PARSES_SAFELY')) {
    it(`${fixture.name} (${fixture.description}) → ${fixture.expected}`, async () => {
      const error = await refusal(fixture.build());
      expect(error.reason).toBe(fixture.expected);
      expect(error).toBeInstanceOf(FolioError);
      expect(error.code).toBe('BAD_USER_INPUT');
      expect(error.details).toEqual({ reason: fixture.expected });
      expect(error.message.length).toBeGreaterThan(10);
    });
  }

  it('stops inflating a lying zip bomb early instead of expanding 1 GiB', async () => {
    const bytes = hostileFixture('zip-bomb-lying-header').build();
    const before = process.memoryUsage().rss;
    const started = performance.now();
    await refusal(bytes);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
  });

  it('enforces per-entry, total, XML, chapter and paragraph limits when they are lowered', async () => {
    const epub = await buildEpub(FIXTURE_BOOK);
    expect((await refusal(epub, { maxCompressedBytes: 100 })).reason).toBe('TOO_LARGE');
    expect((await refusal(epub, { maxXmlBytes: 200 })).reason).toBe('TOO_LARGE');
    expect((await refusal(epub, { maxEntryBytes: 500 })).reason).toBe('TOO_LARGE');
    expect((await refusal(epub, { maxUncompressedBytes: 2000 })).reason).toBe('TOO_LARGE');
    expect((await refusal(epub, { maxEntries: 3 })).reason).toBe('TOO_MANY_ENTRIES');
    expect((await refusal(epub, { maxChapters: 1 })).reason).toBe('TOO_MANY_CHAPTERS');
    expect((await refusal(epub, { maxParagraphs: 3 })).reason).toBe('TOO_MANY_PARAGRAPHS');
  });

  it('rejects invalid limits as a programming error naming the field', async () => {
    const epub = await buildEpub(FIXTURE_BOOK);
    await expect(parseEpub(epub, { maxEntries: 0 })).rejects.toThrow(/maxEntries/);
    await expect(parseEpub(epub, { maxEntries: Number.NaN })).rejects.toThrow(RangeError);
  });
});

describe('parseEpub reads damaged but harmless files', () => {
  it('parses broken XHTML leniently', async () => {
    const book = await parseEpub(hostileFixture('broken-xhtml').build());
    expect(book.chapters[0]!.paragraphs.map((p) => p.text)).toEqual([
      'Broken & Mended',
      'First paragraph with bold text',
      'Second paragraph été & a stray < bracket',
      'Unclosed div text',
      'item one',
      'item two',
      'Café unterminated',
    ]);
    expect(book.chapters[0]!.title).toBe('Morning Tide'); // still from the nav
    expect(book.chapters).toHaveLength(2);
  });

  it('drops scripts, handlers, javascript: links and remote resources', async () => {
    const book = await parseEpub(hostileFixture('scripts-and-handlers').build());
    const chapter = book.chapters[0]!;
    expect(chapter.paragraphs.map((p) => p.text)).toEqual(['Safe text bad link and good link.', 'Styled paragraph']);
    for (const leaked of ['EVIL-SCRIPT', 'NOSCRIPT-TEXT', 'SVG-TEXT', 'TITLE-TEXT', 'BUTTON-TEXT', 'alert']) {
      expect(chapter.text).not.toContain(leaked);
      expect(chapter.html).not.toContain(leaked);
    }
    for (const unsafe of ['<script', 'onclick', 'onmouseover', 'onerror', 'javascript:', '<img', '<iframe', 'style=', '<style', 'http://', '<form', '<svg']) {
      expect(chapter.html.toLowerCase()).not.toContain(unsafe);
    }
    expect(chapter.html).toContain('<a href="https://example.com/">good link</a>');
  });
});

/** C0 controls other than tab, line feed and carriage return, and DEL. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

describe('parseEpub stores what it can read and says what it skipped', () => {
  for (const fixture of HOSTILE_FIXTURES.filter((f) => f.expected === 'PARSES_SAFELY')) {
    it(`${fixture.name} (${fixture.description}) → warnings [${(fixture.warnings ?? []).join(', ')}]`, async () => {
      const book = await parseEpub(fixture.build());
      expect(book.warnings.map((w) => w.code)).toEqual(fixture.warnings ?? []);
      for (const warning of book.warnings) expect(warning.message.length).toBeGreaterThan(10);
      if (fixture.chapters !== undefined) expect(book.chapters).toHaveLength(fixture.chapters);
      for (const chapter of book.chapters) {
        expect(chapter.text).not.toMatch(CONTROL);
        expect(chapter.html).not.toMatch(CONTROL);
        expect(chapter.title).not.toMatch(CONTROL);
      }
    });
  }

  it('never stores a non-document spine item as text', async () => {
    const book = await parseEpub(hostileFixture('spine-zip-chapter').build());
    expect(book.chapters.map((c) => c.title)).toEqual(['Morning Tide']);
    expect(book.warnings[0]!.message).toContain('chapter-002.xhtml');
  });

  it('removes control characters but keeps the text around them, with invalid UTF-8 as U+FFFD', async () => {
    const book = await parseEpub(hostileFixture('control-characters').build());
    expect(book.chapters[0]!.paragraphs.map((p) => p.text)).toEqual(['Bell and text here.', 'Bad bytes: \ufffd\ufffdA end.']);
  });

  it('keeps at most 50 warnings and counts the rest', async () => {
    const refs = Array.from({ length: 80 }, (_, i) => `<itemref idref="ghost-${i}"/>`).join('');
    const epub = await zipEntries(
      epubFiles(FIXTURE_BOOK).map(([name, content]) => [name, name.endsWith('.opf') ? String(content).replace('</spine>', `${refs}</spine>`) : content] as const),
    );
    const book = await parseEpub(epub);
    expect(book.warnings).toHaveLength(51);
    expect(book.warnings.at(-1)).toEqual({ code: 'MORE_WARNINGS', message: '30 more warnings were not kept.' });
  });

  it('refuses a chapter over the text limit with the count it measured, and a book over its total', async () => {
    const epub = await buildEpub(FIXTURE_BOOK);
    const chapter = await refusal(epub, { maxChapterTextChars: 50 });
    expect(chapter.reason).toBe('CHAPTER_TOO_LARGE');
    expect(chapter.message).toMatch(/^Chapter 1 \("Morning Tide"\) has \d+ characters of text; the limit is 50 per chapter\.$/);
    expect((await refusal(epub, { maxBookTextChars: 100 })).reason).toBe('BOOK_TOO_LARGE');
    expect((await refusal(epub, { maxChapterParagraphs: 2 })).reason).toBe('CHAPTER_TOO_LARGE');
  });

  it('accepts a single-chapter novel of 5 million characters', async () => {
    const novel = generateSyntheticBook({ chapters: 1, paragraphsPerChapter: 13_000, seed: 5, language: 'en' });
    const book = await parseEpub(await buildEpub(novel));
    expect(book.chapters).toHaveLength(1);
    expect(book.chapters[0]!.text.length).toBeGreaterThan(5_000_000);
  }, 120_000);
});
