/**
 * Writes a valid EPUB 3 (with an EPUB 2 NCX for older readers) from plain chapters. Used for
 * the demo library, tests and benchmarks; output is byte-for-byte deterministic.
 */
import { createHash } from 'node:crypto';
import yazl from 'yazl';

export interface BookSource {
  readonly title: string;
  readonly authors: readonly string[];
  /** BCP 47, e.g. "en", "zh-CN". */
  readonly language: string;
  readonly description?: string;
  readonly isbn?: string;
  readonly publisher?: string;
  readonly subjects?: readonly string[];
  readonly chapters: ReadonlyArray<{ readonly title: string; readonly paragraphs: readonly string[] }>;
  /** A raster cover image, named both the EPUB 3 way (`cover-image`) and the EPUB 2 way (`<meta name="cover">`). */
  readonly cover?: { readonly mediaType: 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp'; readonly bytes: Buffer };
}

const COVER_EXTENSIONS = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp' } as const;
const coverFile = (cover: NonNullable<BookSource['cover']>): string => `cover.${COVER_EXTENSIONS[cover.mediaType]}`;

// Fixed timestamps keep the output deterministic (same book, same bytes, same hash).
const MODIFIED = '2024-01-01T00:00:00Z';
const MTIME = new Date(MODIFIED);

const escapeXml = (text: string): string =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);

const chapterFile = (index: number): string => `chapter-${String(index + 1).padStart(3, '0')}.xhtml`;

function bookIdentifier(book: BookSource): string {
  if (book.isbn) return `urn:isbn:${book.isbn}`;
  const hex = createHash('sha256').update(`${book.title}\u0000${book.authors.join('\u0000')}`).digest('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function containerXml(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
`;
}

function packageOpf(book: BookSource, identifier: string): string {
  const metadata = [
    `<dc:identifier id="book-id">${escapeXml(identifier)}</dc:identifier>`,
    `<dc:title>${escapeXml(book.title)}</dc:title>`,
    `<dc:language>${escapeXml(book.language)}</dc:language>`,
    ...book.authors.map(
      (author, i) =>
        `<dc:creator id="creator-${i + 1}">${escapeXml(author)}</dc:creator>\n    <meta refines="#creator-${i + 1}" property="role" scheme="marc:relators">aut</meta>`,
    ),
    ...(book.publisher ? [`<dc:publisher>${escapeXml(book.publisher)}</dc:publisher>`] : []),
    ...(book.description ? [`<dc:description>${escapeXml(book.description)}</dc:description>`] : []),
    ...(book.subjects ?? []).map((subject) => `<dc:subject>${escapeXml(subject)}</dc:subject>`),
    `<meta property="dcterms:modified">${MODIFIED}</meta>`,
    ...(book.cover ? ['<meta name="cover" content="cover-image"/>'] : []),
  ];
  const items = book.chapters.map(
    (_, i) => `<item id="chapter-${i + 1}" href="${chapterFile(i)}" media-type="application/xhtml+xml"/>`,
  );
  if (book.cover) items.push(`<item id="cover-image" href="${coverFile(book.cover)}" media-type="${book.cover.mediaType}" properties="cover-image"/>`);
  const refs = book.chapters.map((_, i) => `<itemref idref="chapter-${i + 1}"/>`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="book-id" xml:lang="${escapeXml(book.language)}">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    ${metadata.join('\n    ')}
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
    ${items.join('\n    ')}
  </manifest>
  <spine toc="ncx">
    ${refs.join('\n    ')}
  </spine>
</package>
`;
}

function xhtmlPage(language: string, title: string, body: string, extraNs = ''): string {
  const lang = escapeXml(language);
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml"${extraNs} xml:lang="${lang}" lang="${lang}">
<head>
  <meta charset="UTF-8"/>
  <title>${escapeXml(title)}</title>
</head>
<body>
${body}
</body>
</html>
`;
}

function navXhtml(book: BookSource): string {
  const links = book.chapters.map((c, i) => `      <li><a href="${chapterFile(i)}">${escapeXml(c.title)}</a></li>`);
  const body = `  <nav epub:type="toc" id="toc">
    <h1>${escapeXml(book.title)}</h1>
    <ol>
${links.join('\n')}
    </ol>
  </nav>`;
  return xhtmlPage(book.language, book.title, body, ' xmlns:epub="http://www.idpf.org/2007/ops"');
}

function tocNcx(book: BookSource, identifier: string): string {
  const points = book.chapters.map(
    (c, i) => `    <navPoint id="nav-${i + 1}" playOrder="${i + 1}">
      <navLabel><text>${escapeXml(c.title)}</text></navLabel>
      <content src="${chapterFile(i)}"/>
    </navPoint>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">
  <head><meta name="dtb:uid" content="${escapeXml(identifier)}"/></head>
  <docTitle><text>${escapeXml(book.title)}</text></docTitle>
  <navMap>
${points.join('\n')}
  </navMap>
</ncx>
`;
}

function chapterXhtml(book: BookSource, chapter: BookSource['chapters'][number]): string {
  const body = [`  <h1>${escapeXml(chapter.title)}</h1>`, ...chapter.paragraphs.map((p) => `  <p>${escapeXml(p)}</p>`)];
  return xhtmlPage(book.language, chapter.title, body.join('\n'));
}

/** Zips named files; `mimetype` must come first and stored (EPUB OCF rule), the rest deflated. */
export function zipEntries(files: ReadonlyArray<readonly [name: string, content: string | Buffer]>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of files) {
    const buffer = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    zip.addBuffer(buffer, name, { mtime: MTIME, compress: name !== 'mimetype' });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** The files of an EPUB for `book`, in archive order (for fixtures that tamper with one). */
export function epubFiles(book: BookSource): Array<[name: string, content: string | Buffer]> {
  if (!book.title.trim()) throw new TypeError('buildEpub: a book needs a title.');
  if (book.chapters.length === 0) throw new TypeError('buildEpub: a book needs at least one chapter.');
  const identifier = bookIdentifier(book);
  return [
    ['mimetype', 'application/epub+zip'],
    ['META-INF/container.xml', containerXml()],
    ['OEBPS/content.opf', packageOpf(book, identifier)],
    ['OEBPS/nav.xhtml', navXhtml(book)],
    ['OEBPS/toc.ncx', tocNcx(book, identifier)],
    ...book.chapters.map((chapter, i): [string, string] => [`OEBPS/${chapterFile(i)}`, chapterXhtml(book, chapter)]),
    ...(book.cover ? [[`OEBPS/${coverFile(book.cover)}`, book.cover.bytes] as [string, Buffer]] : []),
  ];
}

export async function buildEpub(book: BookSource): Promise<Buffer> {
  return zipEntries(epubFiles(book));
}
