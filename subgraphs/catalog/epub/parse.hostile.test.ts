import { describe, expect, it } from 'vitest';
import { FolioError } from '../../../lib/errors.js';
import { buildEpub } from './build.js';
import { EpubError } from './errors.js';
import { FIXTURE_BOOK, HOSTILE_FIXTURES, hostileFixture } from '../../../test/kit/epubFixtures.js';
import { parseEpub } from './parse.js';

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
