/**
 * Hostile and broken EPUBs, built by code so the repository holds no binary blobs. Exported for
 * any test that needs a bad upload (catalog jobs, gateway upload limits).
 *
 * Fixtures are written with a tiny zip writer of our own (below) rather than yazl: yazl refuses
 * unsafe names and always tells the truth about sizes, and these files must lie.
 */
import { crc32, constants as zlibConstants, deflateRawSync } from 'node:zlib';
import { epubFiles } from '../../subgraphs/catalog/epub/build.js';
import type { BookSource } from '../../subgraphs/catalog/epub/build.js';
import type { EpubErrorReason } from '../../subgraphs/catalog/epub/errors.js';
import type { EpubWarningCode } from '../../subgraphs/catalog/epub/warnings.js';

export interface RawZipEntry {
  readonly name: string;
  /** The bytes stored in the archive (already deflated when method is 8). */
  readonly data: Buffer;
  readonly method: 0 | 8;
  /** What the headers claim the entry inflates to. */
  readonly uncompressedSize: number;
  readonly crc: number;
}

/** An honest entry: deflated unless it is the `mimetype` file. */
export function zipEntry(name: string, content: string | Buffer): RawZipEntry {
  const raw = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const method = name === 'mimetype' ? 0 : 8;
  return { name, data: method === 8 ? deflateRawSync(raw) : raw, method, uncompressedSize: raw.length, crc: crc32(raw) };
}

/** A minimal zip (no zip64, no comment). Sizes and CRCs are written exactly as given. */
export function writeZip(entries: readonly RawZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(entry.method, 8);
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(0x5821, 12); // date: 2024-01-01
    local.writeUInt32LE(entry.crc >>> 0, 14);
    local.writeUInt32LE(entry.data.length, 18);
    local.writeUInt32LE(entry.uncompressedSize, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    local.copy(central, 6, 4, 30); // version needed … name length, same layout
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, entry.data);
    centrals.push(central, name);
    offset += local.length + name.length + entry.data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A small, valid, original two-chapter book that fixtures tamper with. */
export const FIXTURE_BOOK: BookSource = {
  title: 'The Quiet Harbour',
  authors: ['Folio Fixtures'],
  language: 'en',
  chapters: [
    { title: 'Morning Tide', paragraphs: ['The boats left before the gulls woke.', 'Nobody on the pier said a word.'] },
    { title: 'Evening Nets', paragraphs: ['By dusk the nets were mended and hung to dry.'] },
  ],
};

const CHAPTER_1 = 'OEBPS/chapter-001.xhtml';
const OPF = 'OEBPS/content.opf';

/** The fixture book's files with some replaced (`null` removes a file) and some appended. */
function tamperedBook(replace: Record<string, string | Buffer | null>, extra: RawZipEntry[] = []): Buffer {
  const entries = epubFiles(FIXTURE_BOOK)
    .filter(([name]) => replace[name] !== null)
    .map(([name, content]) => zipEntry(name, replace[name] ?? content));
  return writeZip([...entries, ...extra]);
}

/** One chapter document with the given body markup, not necessarily well-formed. */
export function chapterWithBody(body: string, head = '<title>Fixture</title>'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head>${head}</head><body>${body}</body></html>`;
}

function opfWithDoctype(doctype: string, titleText: string): string {
  const opf = String(epubFiles(FIXTURE_BOOK).find(([name]) => name === OPF)![1]);
  return opf
    .replace('<?xml version="1.0" encoding="UTF-8"?>', `<?xml version="1.0" encoding="UTF-8"?>\n${doctype}`)
    .replace('<dc:title>The Quiet Harbour</dc:title>', `<dc:title>${titleText}</dc:title>`);
}

/**
 * A deflate stream inflating to `mebibytes` MiB of zeros in about 1 KiB per MiB: one
 * full-flushed block of zeros repeated (each block stands alone), then an empty final block.
 */
export function zeroBombDeflate(mebibytes: number): Buffer {
  const block = deflateRawSync(Buffer.alloc(1024 * 1024), { level: 9, finishFlush: zlibConstants.Z_FULL_FLUSH });
  return Buffer.concat([...Array.from({ length: mebibytes }, () => block), Buffer.from([0x03, 0x00])]);
}

const BOMB_MIB = 1024;

export interface HostileFixture {
  readonly name: string;
  readonly description: string;
  /** The refusal reason, or 'PARSES_SAFELY' for damaged-but-readable files. */
  readonly expected: EpubErrorReason | 'PARSES_SAFELY';
  /** For files that parse: the warning codes the job must carry, in order (none when absent). */
  readonly warnings?: readonly EpubWarningCode[];
  /** For files that parse: how many chapters are kept. */
  readonly chapters?: number;
  readonly build: () => Buffer;
}

const CHAPTER_2 = 'OEBPS/chapter-002.xhtml';

/** The fixture OPF with `edit` applied. */
const opfEdited = (edit: (opf: string) => string): string => edit(String(epubFiles(FIXTURE_BOOK).find(([name]) => name === OPF)![1]));

/** Chapter XHTML whose bytes hold C0 controls (raw and as character references) and invalid UTF-8. */
function controlCharacterChapter(): Buffer {
  const [head, tail] = chapterWithBody('<p>Bell\u0007 and &#1;text&#x8; here.</p><p>Bad bytes: MARK end.</p>').split('MARK');
  return Buffer.concat([Buffer.from(head!, 'utf8'), Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x41]), Buffer.from(tail!, 'utf8')]);
}

export const BROKEN_XHTML_BODY =
  '<h2>Broken &amp; Mended<p>First paragraph with <b>bold text<p>Second&nbsp;paragraph &eacute;t&eacute; & a stray < bracket' +
  '<div>Unclosed div text<ul><li>item one<li>item two</ul><p>Café <i>unterminated';

export const SCRIPTED_BODY =
  '<script>document.write("EVIL-SCRIPT")</script>' +
  '<p onclick="alert(1)">Safe text <a href="javascript:alert(2)">bad link</a> and <a href="https://example.com/" onmouseover="x()">good link</a>.</p>' +
  '<img src="http://tracker.example/pixel.gif" onerror="alert(3)"/>' +
  '<style>p { background: url(http://evil.example/bg.png) }</style>' +
  '<iframe src="http://evil.example/frame"></iframe><noscript>NOSCRIPT-TEXT</noscript>' +
  '<svg><script>alert(4)</script><text>SVG-TEXT</text></svg>' +
  '<p style="background:url(http://evil.example/x)">Styled paragraph</p>' +
  '<form action="http://evil.example/"><button formaction="javascript:alert(5)">BUTTON-TEXT</button></form>';

export const HOSTILE_FIXTURES: readonly HostileFixture[] = [
  {
    name: 'not-a-zip',
    description: 'a PDF renamed to .epub',
    expected: 'NOT_A_ZIP',
    build: () => Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n'),
  },
  {
    name: 'truncated-zip',
    description: 'an EPUB cut off halfway through the upload',
    expected: 'NOT_A_ZIP',
    build: () => {
      const whole = tamperedBook({});
      return whole.subarray(0, Math.floor(whole.length / 2));
    },
  },
  {
    name: 'zip-bomb',
    description: `a chapter entry that honestly declares ${BOMB_MIB} MiB of zeros in ~1 MiB`,
    expected: 'ZIP_BOMB',
    build: () =>
      tamperedBook({ [CHAPTER_1]: null }, [
        { name: CHAPTER_1, data: zeroBombDeflate(BOMB_MIB), method: 8, uncompressedSize: BOMB_MIB * 1024 * 1024, crc: 0 },
      ]),
  },
  {
    name: 'zip-bomb-lying-header',
    description: `the same ${BOMB_MIB} MiB bomb, but the headers claim 10 KB`,
    expected: 'ZIP_BOMB',
    build: () =>
      tamperedBook({ [CHAPTER_1]: null }, [
        { name: CHAPTER_1, data: zeroBombDeflate(BOMB_MIB), method: 8, uncompressedSize: 10_000, crc: 0 },
      ]),
  },
  {
    name: 'too-many-entries',
    description: 'the book plus 2,000 tiny filler files',
    expected: 'TOO_MANY_ENTRIES',
    build: () =>
      tamperedBook({}, Array.from({ length: 2000 }, (_, i) => zipEntry(`OEBPS/filler/${i}.txt`, 'x'))),
  },
  {
    name: 'path-traversal-dotdot',
    description: 'an entry named ../../etc/cron.d/evil',
    expected: 'PATH_TRAVERSAL',
    build: () => tamperedBook({}, [zipEntry('../../etc/cron.d/evil', '* * * * * root sh')]),
  },
  {
    name: 'path-traversal-absolute',
    description: 'an entry named /etc/passwd',
    expected: 'PATH_TRAVERSAL',
    build: () => tamperedBook({}, [zipEntry('/etc/passwd', 'root:x:0:0')]),
  },
  {
    name: 'path-traversal-backslash',
    description: 'an entry named OEBPS\\..\\..\\evil.xhtml (Windows separators)',
    expected: 'PATH_TRAVERSAL',
    build: () => tamperedBook({}, [zipEntry('OEBPS\\..\\..\\evil.xhtml', '<p>evil</p>')]),
  },
  {
    name: 'xxe-opf',
    description: 'an OPF whose title is an external entity reading /etc/passwd',
    expected: 'XML_ENTITIES',
    build: () =>
      tamperedBook({
        [OPF]: opfWithDoctype('<!DOCTYPE package [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>', '&xxe;'),
      }),
  },
  {
    name: 'billion-laughs-opf',
    description: 'an OPF with nested entity expansion (billion laughs)',
    expected: 'XML_ENTITIES',
    build: () => {
      const levels = ['<!ENTITY lol0 "lol">'];
      for (let i = 1; i <= 9; i++) levels.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
      return tamperedBook({ [OPF]: opfWithDoctype(`<!DOCTYPE package [ ${levels.join(' ')} ]>`, '&lol9;') });
    },
  },
  {
    name: 'xxe-chapter',
    description: 'a chapter XHTML declaring an external entity',
    expected: 'XML_ENTITIES',
    build: () =>
      tamperedBook({
        [CHAPTER_1]: `<?xml version="1.0"?>\n<!DOCTYPE html [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n<html><body><p>&xxe;</p></body></html>`,
      }),
  },
  {
    name: 'missing-container',
    description: 'no META-INF/container.xml',
    expected: 'MISSING_CONTAINER',
    build: () => tamperedBook({ 'META-INF/container.xml': null }),
  },
  {
    name: 'missing-opf',
    description: 'container.xml names an OPF that is not in the zip',
    expected: 'MISSING_OPF',
    build: () => tamperedBook({ [OPF]: null }),
  },
  {
    name: 'bad-xml-opf',
    description: 'an OPF that is not well-formed',
    expected: 'BAD_XML',
    build: () => tamperedBook({ [OPF]: '<?xml version="1.0"?><package><metadata><dc:title>Oops</metadata>' }),
  },
  {
    name: 'no-content',
    description: 'every chapter is empty or only script',
    expected: 'NO_CONTENT',
    build: () =>
      tamperedBook({
        [CHAPTER_1]: chapterWithBody('<script>var onlyScript = 1;</script>'),
        'OEBPS/chapter-002.xhtml': chapterWithBody('  <div> </div>  '),
      }),
  },
  {
    name: 'drm-encrypted',
    description: 'encryption.xml lists a chapter (DRM), not just obfuscated fonts',
    expected: 'ENCRYPTED',
    build: () =>
      tamperedBook({}, [
        zipEntry(
          'META-INF/encryption.xml',
          `<?xml version="1.0"?><encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/><enc:CipherData><enc:CipherReference URI="${CHAPTER_1}"/></enc:CipherData></enc:EncryptedData></encryption>`,
        ),
      ]),
  },
  {
    name: 'absurdly-large',
    description: 'a 50 MiB + 1 byte upload (over the default compressed limit)',
    expected: 'TOO_LARGE',
    build: () => Buffer.alloc(50 * 1024 * 1024 + 1),
  },
  {
    name: 'broken-xhtml',
    description: 'unclosed tags, stray "<", HTML-only entities, no XML declaration rules',
    expected: 'PARSES_SAFELY',
    build: () => tamperedBook({ [CHAPTER_1]: chapterWithBody(BROKEN_XHTML_BODY) }),
  },
  {
    name: 'scripts-and-handlers',
    description: 'script, onclick, javascript: links, remote images, styles, iframes, svg script',
    expected: 'PARSES_SAFELY',
    build: () =>
      tamperedBook({ [CHAPTER_1]: chapterWithBody(SCRIPTED_BODY, '<title>TITLE-TEXT</title><script>alert(0)</script>') }),
  },
  {
    name: 'spine-zip-chapter',
    description: 'the second chapter is a ZIP file declared as XHTML',
    expected: 'PARSES_SAFELY',
    warnings: ['SPINE_NOT_A_DOCUMENT'],
    chapters: 1,
    build: () => tamperedBook({ [CHAPTER_2]: writeZip([zipEntry('inner.txt', 'not a chapter')]) }),
  },
  {
    name: 'control-characters',
    description: 'C0 control characters as bytes and as character references, and invalid UTF-8',
    expected: 'PARSES_SAFELY',
    chapters: 2,
    build: () => tamperedBook({ [CHAPTER_1]: controlCharacterChapter() }),
  },
  {
    name: 'spine-unknown-id',
    description: 'a spine itemref naming no manifest item',
    expected: 'PARSES_SAFELY',
    warnings: ['SPINE_UNKNOWN_ID'],
    chapters: 2,
    build: () => tamperedBook({ [OPF]: opfEdited((opf) => opf.replace('<itemref idref="chapter-2"/>', '<itemref idref="chapter-2"/><itemref idref="chapter-99"/>')) }),
  },
  {
    name: 'spine-missing-file',
    description: 'a spine item whose file is not in the zip',
    expected: 'PARSES_SAFELY',
    warnings: ['SPINE_MISSING_FILE'],
    chapters: 1,
    build: () => tamperedBook({ [CHAPTER_2]: null }),
  },
  {
    name: 'spine-outside-package',
    description: 'a spine item whose href climbs out of the zip',
    expected: 'PARSES_SAFELY',
    warnings: ['SPINE_OUTSIDE_PACKAGE'],
    chapters: 1,
    build: () => tamperedBook({ [OPF]: opfEdited((opf) => opf.replace('href="chapter-002.xhtml"', 'href="../../../etc/passwd"')) }),
  },
  {
    name: 'wrong-mimetype',
    description: 'the mimetype entry says application/zip',
    expected: 'PARSES_SAFELY',
    warnings: ['BAD_MIMETYPE'],
    chapters: 2,
    build: () => tamperedBook({ mimetype: 'application/zip' }),
  },
  {
    name: 'missing-mimetype',
    description: 'no mimetype entry at all',
    expected: 'PARSES_SAFELY',
    warnings: ['BAD_MIMETYPE'],
    chapters: 2,
    build: () => tamperedBook({ mimetype: null }),
  },
];

export function hostileFixture(name: string): HostileFixture {
  const fixture = HOSTILE_FIXTURES.find((f) => f.name === name);
  if (!fixture) throw new Error(`No hostile fixture named "${name}".`);
  return fixture;
}
