import { describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { buildEpub } from './build.js';
import { FIXTURE_BOOK } from '../../../test/kit/epubFixtures.js';

async function listEntries(epub: Buffer): Promise<Array<{ name: string; method: number; data: string }>> {
  const zip = await yauzl.fromBufferPromise(epub, { lazyEntries: true });
  const entries = [];
  for await (const entry of zip.eachEntry()) {
    const chunks: Buffer[] = [];
    for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
    entries.push({ name: entry.fileName, method: entry.compressionMethod, data: Buffer.concat(chunks).toString('utf8') });
  }
  zip.close();
  return entries;
}

describe('buildEpub', () => {
  it('writes mimetype first and stored, then container, OPF, nav, NCX and chapters', async () => {
    const epub = await buildEpub(FIXTURE_BOOK);
    // OCF: the first local file header names "mimetype", uncompressed, so readers can sniff it.
    expect(epub.subarray(30, 38).toString('latin1')).toBe('mimetype');
    expect(epub.subarray(38, 58).toString('latin1')).toBe('application/epub+zip');
    const entries = await listEntries(epub);
    expect(entries.map((e) => [e.name, e.method])).toEqual([
      ['mimetype', 0],
      ['META-INF/container.xml', 8],
      ['OEBPS/content.opf', 8],
      ['OEBPS/nav.xhtml', 8],
      ['OEBPS/toc.ncx', 8],
      ['OEBPS/chapter-001.xhtml', 8],
      ['OEBPS/chapter-002.xhtml', 8],
    ]);
    const opf = entries.find((e) => e.name === 'OEBPS/content.opf')!.data;
    expect(opf).toContain('<meta property="dcterms:modified">');
    expect(opf).toContain('properties="nav"');
    expect(opf).toContain('<spine toc="ncx">');
  });

  it('escapes markup in titles and text, and is byte-for-byte deterministic', async () => {
    const book = { ...FIXTURE_BOOK, title: 'Fish & <Chips>', chapters: [{ title: 'A "quoted" title', paragraphs: ['1 < 2 & 3 > 2'] }] };
    const [a, b] = await Promise.all([buildEpub(book), buildEpub(book)]);
    expect(a.equals(b)).toBe(true);
    const chapter = (await listEntries(a)).find((e) => e.name === 'OEBPS/chapter-001.xhtml')!.data;
    expect(chapter).toContain('<p>1 &lt; 2 &amp; 3 &gt; 2</p>');
  });

  it('refuses a book without chapters', async () => {
    await expect(buildEpub({ ...FIXTURE_BOOK, chapters: [] })).rejects.toThrow(/chapter/);
  });
});
